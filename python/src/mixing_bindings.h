// Python bindings of the dynamic mixing algorithms (mixture/dynamic_mixing.h, mixture/ado.h)
// as `_mixtera.AdoAlgorithm` and `_mixtera.SimpleAveragingAlgorithm`;
// python/mixtera/dynamic_mixing.py wraps them with the original's class names and attributes.
// Feedback is processed with the GIL released (a refit of the scaling laws runs on the
// algorithm's own threads).
#pragma once

#include <pybind11/pybind11.h>

namespace mixtera::python {

void BindMixingAlgorithms(pybind11::module_& m);

}  // namespace mixtera::python
