// Python bindings of client::SampleStream as `_mixtera.SampleStream`; the pure-Python side is
// MixteraClient.stream_results (python/mixtera/client.py).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "engine/job_manager.h"

namespace mixtera::python {

void BindSampleStream(pybind11::module_& m);

// The live jobs of a `_mixtera.Engine` (module.cc). Raises when the engine is closed.
std::shared_ptr<engine::JobManager> JobManagerOf(pybind11::handle engine);

}  // namespace mixtera::python
