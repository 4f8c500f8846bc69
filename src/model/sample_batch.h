// SampleBatch: extracted properties of consecutive samples of one file, column by column.
// Ingest fills batches on scanner threads; the store appends them to DuckDB on one thread.
//
// Strings live in one character buffer per column (no allocation per value).
// Thread safety: a batch is a value; one thread owns it at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/property.h"

namespace mixtera::model {

class PropertyColumn {
 public:
  explicit PropertyColumn(PropertyType type) : type_(type) {}

  PropertyType type() const { return type_; }
  size_t size() const { return valid_.size(); }

  void AppendNull();
  void AppendInt(int64_t v);
  void AppendFloat(double v);
  void AppendBool(bool v);
  // For kString and kEnum.
  void AppendString(std::string_view v);
  // For kStringList: BeginList(), AppendListItem() per item, EndList().
  void BeginList() {}
  void AppendListItem(std::string_view v);
  void EndList();

  bool is_valid(size_t row) const { return valid_[row] != 0; }
  int64_t int_at(size_t row) const { return ints_[row]; }
  double float_at(size_t row) const { return floats_[row]; }
  bool bool_at(size_t row) const { return bools_[row] != 0; }
  // kString/kEnum. The view is valid until the column is modified.
  std::string_view string_at(size_t row) const { return item(row); }
  // kStringList.
  size_t list_size(size_t row) const;
  std::string_view list_item(size_t row, size_t i) const;

  // Drops rows past `num_rows` (used to roll back a partially extracted record).
  void TruncateTo(size_t num_rows);
  void Clear() { TruncateTo(0); }

 private:
  std::string_view item(size_t item_index) const;

  PropertyType type_;
  std::vector<uint8_t> valid_;
  std::vector<int64_t> ints_;
  std::vector<double> floats_;
  std::vector<uint8_t> bools_;
  // Strings and list items: item i spans chars_[item_ends_[i-1], item_ends_[i]).
  std::string chars_;
  std::vector<uint64_t> item_ends_;
  // kStringList: row r owns items [list_ends_[r-1], list_ends_[r]).
  std::vector<uint64_t> list_ends_;
};

struct SampleBatch {
  SampleBatch() = default;
  SampleBatch(int64_t file, const std::vector<PropertySchema>& schema) : file_id(file) {
    columns.reserve(schema.size());
    for (const auto& p : schema) columns.emplace_back(p.type);
  }

  size_t num_rows() const { return sample_ids.size(); }
  // Drops rows past `num_rows` in every column.
  void TruncateTo(size_t num_rows);

  int64_t file_id = 0;
  // Physical record index in the file (DESIGN.md §3.1), ascending.
  std::vector<int64_t> sample_ids;
  // One column per declared property, in declaration order.
  std::vector<PropertyColumn> columns;
};

}  // namespace mixtera::model
