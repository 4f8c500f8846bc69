#include "status_bridge.h"

namespace mixtera::python {

namespace py = pybind11;

void ThrowStatus(const Status& status) {
  const char* name = "MixteraError";
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      name = "InvalidArgumentError";
      break;
    case StatusCode::kNotFound:
      name = "NotFoundError";
      break;
    case StatusCode::kAlreadyExists:
      name = "AlreadyExistsError";
      break;
    case StatusCode::kOutOfRange:
      name = "OutOfRangeError";
      break;
    case StatusCode::kFailedPrecondition:
      name = "FailedPreconditionError";
      break;
    case StatusCode::kUnavailable:
      name = "UnavailableError";
      break;
    case StatusCode::kCancelled:
      name = "CancelledError";
      break;
    case StatusCode::kIOError:
      name = "MixteraIOError";
      break;
    case StatusCode::kCorruption:
      name = "CorruptionError";
      break;
    case StatusCode::kUnimplemented:
      name = "UnimplementedError";
      break;
    case StatusCode::kInternal:
      name = "InternalError";
      break;
    case StatusCode::kOk:
      break;
  }
  py::object errors = py::module_::import("mixtera.errors");
  py::object cls = errors.attr(name);
  // Messages may quote bytes of broken files: decode leniently, never fail here.
  const std::string& msg = status.message();
  py::object text = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(msg.data(), static_cast<Py_ssize_t>(msg.size()), "replace"));
  PyErr_SetObject(cls.ptr(), text.ptr());
  throw py::error_already_set();
}

}  // namespace mixtera::python
