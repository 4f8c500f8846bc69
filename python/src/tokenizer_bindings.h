// Python bindings of the native tokenizers (tokenize/tokenizer.h) as `_mixtera.Tokenizer`;
// python/mixtera/tokenizer.py wraps them as `mixtera.Tokenizer`.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenize/tokenizer.h"

namespace mixtera::python {

// The object behind `_mixtera.Tokenizer`. Encoding runs with the GIL released.
class PyTokenizer {
 public:
  // Raises the mapped MixteraError when loading fails.
  static std::shared_ptr<PyTokenizer> Load(const std::string& path, const std::string& encoding);

  pybind11::list Encode(const pybind11::handle& text, bool allow_special) const;
  pybind11::list EncodeBatch(const pybind11::iterable& texts, int num_threads) const;
  pybind11::str Decode(const std::vector<int32_t>& ids) const;
  std::optional<int32_t> TokenToId(const pybind11::handle& token) const;

  const tokenize::Tokenizer& tok() const { return *tok_; }
  const std::shared_ptr<tokenize::Tokenizer>& shared() const { return tok_; }

 private:
  std::shared_ptr<tokenize::Tokenizer> tok_;
};

void BindTokenizer(pybind11::module_& m);

}  // namespace mixtera::python
