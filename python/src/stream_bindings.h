// Python bindings of client::SampleStream as `_mixtera.SampleStream`; the pure-Python side is
// MixteraClient.stream_results (python/mixtera/client.py).
#pragma once

#include <pybind11/pybind11.h>

namespace mixtera::python {

void BindSampleStream(pybind11::module_& m);

}  // namespace mixtera::python
