// A Python callable as an ingest::RecordParser (the `parser=` hook of register_dataset).
//
// The callable is either a function `f(line_number, payload) -> dict` or an object with the
// original Mixtera's `parse(line_number, payload)` method; `payload` is the JSON-decoded
// line and the returned dict maps property names to values. Missing keys and None are
// "missing"; unknown keys are an error. Exceptions raised by the callable make the record
// bad (skipped under on_error: skip), with the exception's text in the message;
// KeyboardInterrupt and SystemExit instead stop the registration (nothing is committed) and
// are raised again by RaiseInterrupt().
// Thread safety: holds the GIL for each batch.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "ingest/ingester.h"
#include "model/property.h"

namespace mixtera::python {

// Hidden like the pybind11 objects it holds.
class __attribute__((visibility("hidden"))) PyRecordParser : public ingest::RecordParser {
 public:
  // REQUIRES: the GIL is held.
  PyRecordParser(pybind11::object callable, std::vector<model::PropertySchema> properties);
  ~PyRecordParser() override;

  Status ParseBatch(const std::vector<Record>& records,
                    std::vector<std::vector<ingest::LooseValue>>* values,
                    std::vector<Status>* errors) override;

  // When the callable raised KeyboardInterrupt or SystemExit, raises it again (throws
  // pybind11::error_already_set); otherwise returns. REQUIRES: the GIL is held.
  void RaiseInterrupt();

 private:
  // The first KeyboardInterrupt or SystemExit the callable raised (type, value, traceback).
  pybind11::object interrupt_type_, interrupt_value_, interrupt_trace_;
  pybind11::object callable_;
  pybind11::object json_loads_;
  std::vector<model::PropertySchema> properties_;
};

}  // namespace mixtera::python
