#include "parser_bridge.h"

#include <map>

#include "base/strings.h"

namespace mixtera::python {

namespace py = pybind11;

PyRecordParser::PyRecordParser(py::object callable, std::vector<model::PropertySchema> properties)
    : properties_(std::move(properties)) {
  if (py::hasattr(callable, "parse") && !PyFunction_Check(callable.ptr())) {
    callable_ = callable.attr("parse");
  } else {
    callable_ = std::move(callable);
  }
  json_loads_ = py::module_::import("json").attr("loads");
}

PyRecordParser::~PyRecordParser() {
  py::gil_scoped_acquire gil;
  callable_ = py::object();
  json_loads_ = py::object();
  interrupt_type_ = py::object();
  interrupt_value_ = py::object();
  interrupt_trace_ = py::object();
}

void PyRecordParser::RaiseInterrupt() {
  if (!interrupt_type_) return;
  PyErr_Restore(interrupt_type_.release().ptr(), interrupt_value_.release().ptr(),
                interrupt_trace_.release().ptr());
  throw py::error_already_set();
}

namespace {

// Converts one Python value; sets *error on an unsupported type.
ingest::LooseValue Convert(const py::handle& v, std::string* error) {
  if (v.is_none()) return std::monostate{};
  if (PyBool_Check(v.ptr())) return v.cast<bool>();
  if (PyLong_Check(v.ptr())) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow != 0) {
      *error = "integer out of int64 range";
      return std::monostate{};
    }
    return static_cast<int64_t>(x);
  }
  if (PyFloat_Check(v.ptr())) return v.cast<double>();
  if (PyUnicode_Check(v.ptr())) return v.cast<std::string>();
  if (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr())) {
    std::vector<std::string> items;
    for (const py::handle& item : v) {
      if (!PyUnicode_Check(item.ptr())) {
        *error = StrCat("list items must be str, got ",
                        std::string(py::str(item.get_type().attr("__name__"))));
        return std::monostate{};
      }
      items.push_back(item.cast<std::string>());
    }
    return items;
  }
  *error = StrCat("unsupported value type ", std::string(py::str(v.get_type().attr("__name__"))));
  return std::monostate{};
}

}  // namespace

Status PyRecordParser::ParseBatch(const std::vector<Record>& records,
                                  std::vector<std::vector<ingest::LooseValue>>* values,
                                  std::vector<Status>* errors) {
  py::gil_scoped_acquire gil;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < properties_.size(); ++i) index[properties_[i].name] = i;
  for (size_t r = 0; r < records.size(); ++r) {
    auto& row = (*values)[r];
    row.assign(properties_.size(), std::monostate{});
    try {
      py::object payload = json_loads_(py::str(records[r].bytes.data(), records[r].bytes.size()));
      py::object result = callable_(records[r].line_index, payload);
      if (result.is_none()) continue;
      if (!PyDict_Check(result.ptr())) {
        (*errors)[r] = Status::InvalidArgument(
            StrCat("parser must return a dict of property values, got ",
                   std::string(py::str(result.get_type().attr("__name__")))));
        continue;
      }
      for (const auto& kv : py::reinterpret_borrow<py::dict>(result)) {
        std::string key = py::str(kv.first);
        auto it = index.find(key);
        if (it == index.end()) {
          (*errors)[r] =
              Status::InvalidArgument(StrCat("parser returned unknown property '", key, "'"));
          break;
        }
        std::string error;
        row[it->second] = Convert(kv.second, &error);
        if (!error.empty()) {
          (*errors)[r] = Status::InvalidArgument(StrCat("property '", key, "': ", error));
          break;
        }
      }
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit)) {
        if (!interrupt_type_) {
          interrupt_type_ = e.type();
          interrupt_value_ = e.value();
          interrupt_trace_ = e.trace();
        }
        return Status::Cancelled(StrCat("registration interrupted in the parser: ", e.what()));
      }
      (*errors)[r] = Status::InvalidArgument(StrCat("parser raised ", e.what()));
    } catch (const std::exception& e) {  // e.g. a str that is not valid UTF-8 (lone surrogate)
      (*errors)[r] =
          Status::InvalidArgument(StrCat("cannot convert the parser's result: ", e.what()));
    }
  }
  return Status::OK();
}

}  // namespace mixtera::python
