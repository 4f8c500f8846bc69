// Python bindings of the dynamic mixing algorithms (mixture/dynamic_mixing.h, mixture/ado.h)
// as `_mixtera.AdoAlgorithm` and `_mixtera.SimpleAveragingAlgorithm`;
// python/mixtera/dynamic_mixing.py wraps them with the original's class names and attributes.
// Feedback is processed with the GIL released (a refit of the scaling laws runs on the
// algorithm's own threads).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "engine/job_manager.h"

namespace mixtera::python {

void BindMixingAlgorithms(pybind11::module_& m);

// The driver of a native algorithm object (`_mixtera.MixingAlgorithm`), shared with it: a
// live job runs it while Python may still read its state (under the driver's lock). nullptr
// when `native` is not one.
std::shared_ptr<engine::MixingDriver> NativeDriverOf(pybind11::handle native);

}  // namespace mixtera::python
