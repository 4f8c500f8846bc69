// Python bindings of the native tokenizers (tokenize/tokenizer.h) as `_mixtera.Tokenizer`;
// python/mixtera/tokenizer.py wraps them as `mixtera.Tokenizer`.
#pragma once

#include <pybind11/pybind11.h>

namespace mixtera::python {

void BindTokenizer(pybind11::module_& m);

}  // namespace mixtera::python
