#include "model/sample_batch.h"

namespace mixtera::model {

void PropertyColumn::AppendNull() {
  valid_.push_back(0);
  switch (type_) {
    case PropertyType::kInt:
      ints_.push_back(0);
      break;
    case PropertyType::kFloat:
      floats_.push_back(0);
      break;
    case PropertyType::kBool:
      bools_.push_back(0);
      break;
    case PropertyType::kString:
    case PropertyType::kEnum:
      item_ends_.push_back(chars_.size());
      break;
    case PropertyType::kStringList:
      list_ends_.push_back(item_ends_.size());
      break;
  }
}

void PropertyColumn::AppendInt(int64_t v) {
  valid_.push_back(1);
  ints_.push_back(v);
}

void PropertyColumn::AppendFloat(double v) {
  valid_.push_back(1);
  floats_.push_back(v);
}

void PropertyColumn::AppendBool(bool v) {
  valid_.push_back(1);
  bools_.push_back(v ? 1 : 0);
}

void PropertyColumn::AppendString(std::string_view v) {
  valid_.push_back(1);
  chars_.append(v);
  item_ends_.push_back(chars_.size());
}

void PropertyColumn::AppendListItem(std::string_view v) {
  chars_.append(v);
  item_ends_.push_back(chars_.size());
}

void PropertyColumn::EndList() {
  valid_.push_back(1);
  list_ends_.push_back(item_ends_.size());
}

std::string_view PropertyColumn::item(size_t i) const {
  uint64_t begin = i == 0 ? 0 : item_ends_[i - 1];
  return std::string_view(chars_).substr(begin, item_ends_[i] - begin);
}

size_t PropertyColumn::list_size(size_t row) const {
  uint64_t begin = row == 0 ? 0 : list_ends_[row - 1];
  return list_ends_[row] - begin;
}

std::string_view PropertyColumn::list_item(size_t row, size_t i) const {
  uint64_t begin = row == 0 ? 0 : list_ends_[row - 1];
  return item(begin + i);
}

void PropertyColumn::TruncateTo(size_t num_rows) {
  // Also called with num_rows == size() to drop items of an unfinished list.
  if (num_rows > valid_.size()) return;
  valid_.resize(num_rows);
  switch (type_) {
    case PropertyType::kInt:
      ints_.resize(num_rows);
      break;
    case PropertyType::kFloat:
      floats_.resize(num_rows);
      break;
    case PropertyType::kBool:
      bools_.resize(num_rows);
      break;
    case PropertyType::kString:
    case PropertyType::kEnum:
      item_ends_.resize(num_rows);
      chars_.resize(num_rows == 0 ? 0 : item_ends_.back());
      break;
    case PropertyType::kStringList: {
      list_ends_.resize(num_rows);
      size_t items = num_rows == 0 ? 0 : list_ends_.back();
      item_ends_.resize(items);
      chars_.resize(items == 0 ? 0 : item_ends_.back());
      break;
    }
  }
}

void SampleBatch::TruncateTo(size_t num_rows) {
  if (num_rows < sample_ids.size()) sample_ids.resize(num_rows);
  for (auto& c : columns) c.TruncateTo(num_rows);
}

}  // namespace mixtera::model
