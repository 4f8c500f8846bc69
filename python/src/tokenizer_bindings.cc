#include "tokenizer_bindings.h"

#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "status_bridge.h"
#include "tokenize/tokenizer.h"

namespace py = pybind11;

namespace mixtera::python {
namespace {

// The UTF-8 bytes of a str (lone surrogates pass through as ill-formed bytes, which the
// tokenizer turns into U+FFFD) or of a bytes object.
std::string TextBytes(const py::handle& text) {
  if (PyBytes_Check(text.ptr())) {
    char* data;
    Py_ssize_t size;
    PyBytes_AsStringAndSize(text.ptr(), &data, &size);
    return std::string(data, size);
  }
  if (!PyUnicode_Check(text.ptr())) {
    throw py::type_error(std::string("expected str or bytes, got ") + Py_TYPE(text.ptr())->tp_name);
  }
  Py_ssize_t size;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (data != nullptr) return std::string(data, size);
  PyErr_Clear();
  py::object encoded = py::reinterpret_steal<py::object>(
      PyUnicode_AsEncodedString(text.ptr(), "utf-8", "surrogatepass"));
  if (!encoded) throw py::error_already_set();
  return std::string(PyBytes_AS_STRING(encoded.ptr()), PyBytes_GET_SIZE(encoded.ptr()));
}

py::list IdsToList(const std::vector<int32_t>& ids) {
  py::list out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    PyList_SET_ITEM(out.ptr(), i, PyLong_FromLong(ids[i]));
  }
  return out;
}

}  // namespace

std::shared_ptr<PyTokenizer> PyTokenizer::Load(const std::string& path,
                                               const std::string& encoding) {
  Result<std::unique_ptr<tokenize::Tokenizer>> tok = Status::Internal("unset");
  {
    py::gil_scoped_release release;
    tok = tokenize::LoadTokenizer(path, encoding);
  }
  auto out = std::make_shared<PyTokenizer>();
  out->tok_ = std::shared_ptr<tokenize::Tokenizer>(ValueOrThrow(std::move(tok)));
  return out;
}

py::list PyTokenizer::Encode(const py::handle& text, bool allow_special) const {
  const std::string bytes = TextBytes(text);
  Result<std::vector<int32_t>> ids = Status::Internal("unset");
  {
    py::gil_scoped_release release;
    ids = tok_->Encode(bytes, allow_special);
  }
  return IdsToList(ValueOrThrow(std::move(ids)));
}

py::list PyTokenizer::EncodeBatch(const py::iterable& texts, int num_threads) const {
  std::vector<std::string> inputs;
  for (const py::handle& t : texts) inputs.push_back(TextBytes(t));
  Result<std::vector<std::vector<int32_t>>> ids = Status::Internal("unset");
  {
    py::gil_scoped_release release;
    ids = tok_->EncodeBatch(inputs, num_threads);
  }
  std::vector<std::vector<int32_t>> all = ValueOrThrow(std::move(ids));
  py::list out(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    PyList_SET_ITEM(out.ptr(), i, IdsToList(all[i]).release().ptr());
  }
  return out;
}

py::str PyTokenizer::Decode(const std::vector<int32_t>& ids) const {
  Result<std::string> text = Status::Internal("unset");
  {
    py::gil_scoped_release release;
    text = tok_->Decode(ids);
  }
  const std::string bytes = ValueOrThrow(std::move(text));
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), bytes.size(), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

std::optional<int32_t> PyTokenizer::TokenToId(const py::handle& token) const {
  return tok_->TokenToId(TextBytes(token));
}

void BindTokenizer(py::module_& m) {
  py::class_<PyTokenizer, std::shared_ptr<PyTokenizer>>(m, "Tokenizer")
      .def_static("load", &PyTokenizer::Load, py::arg("path"), py::arg("encoding") = "")
      .def("encode", &PyTokenizer::Encode, py::arg("text"), py::arg("allow_special") = false)
      .def("encode_batch", &PyTokenizer::EncodeBatch, py::arg("texts"), py::arg("num_threads") = 0)
      .def("decode", &PyTokenizer::Decode, py::arg("ids"))
      .def("token_to_id", &PyTokenizer::TokenToId, py::arg("token"))
      .def_property_readonly("vocab_size",
                             [](const PyTokenizer& t) { return t.tok().vocab_size(); })
      .def_property_readonly("bos_id", [](const PyTokenizer& t) { return t.tok().bos_id(); })
      .def_property_readonly("eos_id", [](const PyTokenizer& t) { return t.tok().eos_id(); })
      .def_property_readonly("fingerprint",
                             [](const PyTokenizer& t) { return t.tok().fingerprint(); })
      .def_property_readonly("special_tokens", [](const PyTokenizer& t) {
        py::dict out;
        for (const auto& [text, id] : t.tok().special_tokens()) out[py::str(text)] = id;
        return out;
      });
}

}  // namespace mixtera::python
