#include "query/where_parser.h"

#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::query {

namespace {

using model::CompareOp;
using model::Literal;
using model::Predicate;

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// ASCII case-insensitive comparison with a lower-case keyword.
bool EqualsKeyword(std::string_view word, std::string_view keyword) {
  if (word.size() != keyword.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

struct Token {
  enum class Kind : uint8_t { kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kEnd };
  Kind kind = Kind::kEnd;
  std::string_view text;  // as written (strings with their quotes)
  size_t offset = 0;      // byte offset in the input
  Literal literal;        // kString, kNumber: the decoded value
  CompareOp op = CompareOp::kEq;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Predicate> Parse() {
    if (!IsValidUtf8(text_)) return Status::InvalidArgument("where: the text is not valid UTF-8");
    MIXTERA_RETURN_IF_ERROR(Lex());
    if (tokens_.size() == 1) return Predicate{};  // only kEnd: everything
    MIXTERA_ASSIGN_OR_RETURN(Predicate p, ParseOr(0));
    if (Peek().kind != Token::Kind::kEnd) {
      return Error(Peek(),
                   StrCat("expected 'and', 'or' or the end of the text, got ", Describe(Peek())));
    }
    return p;
  }

 private:
  // --- Lexer ----------------------------------------------------------------------------

  // 1-based column, in characters, of byte `offset`.
  size_t Column(size_t offset) const {
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
  }

  Status ErrorAt(size_t offset, const std::string& what) const {
    return Status::InvalidArgument(StrCat("where: column ", Column(offset), ": ", what));
  }
  Status Error(const Token& token, const std::string& what) const {
    return ErrorAt(token.offset, what);
  }

  static std::string Describe(const Token& t) {
    if (t.kind == Token::Kind::kEnd) return "the end of the text";
    std::string_view text = t.text;
    if (t.kind == Token::Kind::kString) {
      if (text.size() > 40) {
        // Cut at a character boundary.
        size_t cut = 36;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
        return StrCat(text.substr(0, cut), "...'");
      }
      return std::string(text);
    }
    return StrCat("'", text, "'");
  }

  Status Lex() {
    size_t i = 0;
    const size_t n = text_.size();
    while (true) {
      while (i < n && IsSpace(text_[i])) ++i;
      Token t;
      t.offset = i;
      if (i == n) {
        tokens_.push_back(t);
        return Status::OK();
      }
      const char c = text_[i];
      if (IsIdentStart(c)) {
        size_t j = i + 1;
        while (j < n && IsIdentChar(text_[j])) ++j;
        t.kind = Token::Kind::kIdent;
        t.text = text_.substr(i, j - i);
        i = j;
      } else if (c == '\'') {
        std::string value;
        size_t j = i + 1;
        while (true) {
          if (j >= n) return ErrorAt(i, "unterminated string literal (a quote is written '')");
          if (text_[j] == '\'') {
            if (j + 1 < n && text_[j + 1] == '\'') {
              value.push_back('\'');
              j += 2;
              continue;
            }
            ++j;
            break;
          }
          value.push_back(text_[j++]);
        }
        t.kind = Token::Kind::kString;
        t.text = text_.substr(i, j - i);
        t.literal = Literal::String(std::move(value));
        i = j;
      } else if (IsDigit(c) || c == '.' || c == '-') {
        MIXTERA_RETURN_IF_ERROR(LexNumber(&i, &t));
      } else if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '('   ? Token::Kind::kLParen
                 : c == ')' ? Token::Kind::kRParen
                            : Token::Kind::kComma;
        t.text = text_.substr(i, 1);
        ++i;
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        const char next = i + 1 < n ? text_[i + 1] : '\0';
        t.kind = Token::Kind::kOp;
        if (c == '=' && next == '=') {
          t.op = CompareOp::kEq;
        } else if (c == '!' && next == '=') {
          t.op = CompareOp::kNe;
        } else if (c == '<' && next == '=') {
          t.op = CompareOp::kLe;
        } else if (c == '>' && next == '=') {
          t.op = CompareOp::kGe;
        } else if (c == '<' && next == '>') {
          return ErrorAt(i, "'<>' is not an operator; use '!='");
        } else if (c == '<') {
          t.op = CompareOp::kLt;
        } else if (c == '>') {
          t.op = CompareOp::kGt;
        } else if (c == '=') {
          return ErrorAt(i, "'=' is not an operator; use '=='");
        } else {
          return ErrorAt(i, "'!' is not an operator; use '!=' or 'not'");
        }
        const size_t len = (t.op == CompareOp::kLt || t.op == CompareOp::kGt) ? 1 : 2;
        t.text = text_.substr(i, len);
        i += len;
      } else if (c == '"') {
        return ErrorAt(i, "unexpected '\"': strings are single-quoted ('text')");
      } else {
        // Show the whole (possibly multi-byte) character.
        size_t j = i + 1;
        while (j < n && (static_cast<unsigned char>(text_[j]) & 0xC0) == 0x80) ++j;
        return ErrorAt(i, StrCat("unexpected character '", text_.substr(i, j - i), "'"));
      }
      tokens_.push_back(std::move(t));
    }
  }

  // number := '-'? (digits ('.' digits*)? | '.' digits) ([eE] [+-]? digits)?
  Status LexNumber(size_t* pos, Token* t) {
    const size_t begin = *pos;
    const size_t n = text_.size();
    size_t j = begin;
    if (text_[j] == '-') ++j;
    const size_t int_begin = j;
    while (j < n && IsDigit(text_[j])) ++j;
    const bool has_int_digits = j > int_begin;
    bool is_float = false;
    if (j < n && text_[j] == '.') {
      is_float = true;
      ++j;
      const size_t frac_begin = j;
      while (j < n && IsDigit(text_[j])) ++j;
      if (!has_int_digits && j == frac_begin) {
        return ErrorAt(begin, StrCat("unexpected character '", text_[begin], "'"));
      }
    } else if (!has_int_digits) {
      return ErrorAt(begin, text_[begin] == '-'
                                ? "expected a number after '-' (write negative numbers as -5)"
                                : StrCat("unexpected character '", text_[begin], "'"));
    }
    if (j < n && (text_[j] == 'e' || text_[j] == 'E')) {
      size_t k = j + 1;
      if (k < n && (text_[k] == '+' || text_[k] == '-')) ++k;
      const size_t exp_begin = k;
      while (k < n && IsDigit(text_[k])) ++k;
      if (k == exp_begin) {
        return ErrorAt(begin, StrCat("malformed number '", text_.substr(begin, k - begin), "'"));
      }
      is_float = true;
      j = k;
    }
    if (j < n && (IsIdentChar(text_[j]) || text_[j] == '.')) {
      size_t k = j;
      while (k < n && (IsIdentChar(text_[k]) || text_[k] == '.')) ++k;
      return ErrorAt(begin, StrCat("malformed number '", text_.substr(begin, k - begin), "'"));
    }
    const std::string_view digits = text_.substr(begin, j - begin);
    t->kind = Token::Kind::kNumber;
    t->text = digits;
    if (is_float) {
      double v = 0;
      // from_chars does not take a leading '+'; ours never has one.
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec == std::errc::result_out_of_range || !std::isfinite(v)) {
        return ErrorAt(begin, StrCat("float literal '", digits, "' is out of range"));
      }
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        return ErrorAt(begin, StrCat("malformed number '", digits, "'"));
      }
      t->literal = Literal::Float(v);
    } else {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec == std::errc::result_out_of_range) {
        return ErrorAt(begin, StrCat("integer literal '", digits,
                                     "' does not fit in 64 bits (write a float as 1e19)"));
      }
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        return ErrorAt(begin, StrCat("malformed number '", digits, "'"));
      }
      t->literal = Literal::Int(v);
    }
    *pos = j;
    return Status::OK();
  }

  // --- Parser ---------------------------------------------------------------------------

  const Token& Peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool IsKeyword(const Token& t, std::string_view keyword) const {
    return t.kind == Token::Kind::kIdent && EqualsKeyword(t.text, keyword);
  }
  bool IsOperatorKeyword(const Token& t) const {
    for (std::string_view k : {"and", "or", "not", "in", "contains", "is"}) {
      if (IsKeyword(t, k)) return true;
    }
    return false;
  }
  // Whether the identifier at pos_ + ahead starts an atom `prop <operator> ...`, which decides
  // whether a keyword there is a property name: `not == 1`, `is is null`, `not not in (1)`.
  bool StartsComparison(size_t ahead) const {
    if (Peek(ahead).kind != Token::Kind::kIdent) return false;
    const Token& op = Peek(ahead + 1);
    const Token& next = Peek(ahead + 2);
    if (op.kind == Token::Kind::kOp) return true;
    if (IsKeyword(op, "in")) return next.kind == Token::Kind::kLParen;
    if (IsKeyword(op, "not")) {
      return IsKeyword(next, "in") && Peek(ahead + 3).kind == Token::Kind::kLParen;
    }
    if (IsKeyword(op, "contains")) {
      return next.kind == Token::Kind::kString || next.kind == Token::Kind::kNumber ||
             IsKeyword(next, "true") || IsKeyword(next, "false");
    }
    if (IsKeyword(op, "is")) {
      return IsKeyword(next, "null") ||
             (IsKeyword(next, "not") && IsKeyword(Peek(ahead + 3), "null"));
    }
    return false;
  }

  // Nesting guard: a deeply nested text must not overflow the stack.
  static constexpr int kMaxDepth = 200;

  Result<Predicate> ParseOr(int depth) {
    if (depth > kMaxDepth) return Error(Peek(), "the expression is nested too deeply");
    MIXTERA_ASSIGN_OR_RETURN(Predicate first, ParseAnd(depth));
    if (!IsKeyword(Peek(), "or")) return first;
    Predicate out;
    out.kind = Predicate::Kind::kOr;
    out.children.push_back(std::move(first));
    while (IsKeyword(Peek(), "or")) {
      Next();
      MIXTERA_ASSIGN_OR_RETURN(Predicate next, ParseAnd(depth));
      out.children.push_back(std::move(next));
    }
    return out;
  }

  Result<Predicate> ParseAnd(int depth) {
    MIXTERA_ASSIGN_OR_RETURN(Predicate first, ParseNot(depth));
    if (!IsKeyword(Peek(), "and")) return first;
    Predicate out;
    out.kind = Predicate::Kind::kAnd;
    out.children.push_back(std::move(first));
    while (IsKeyword(Peek(), "and")) {
      Next();
      MIXTERA_ASSIGN_OR_RETURN(Predicate next, ParseNot(depth));
      out.children.push_back(std::move(next));
    }
    return out;
  }

  Result<Predicate> ParseNot(int depth) {
    if (depth > kMaxDepth) return Error(Peek(), "the expression is nested too deeply");
    if (IsKeyword(Peek(), "not") && !StartsComparison(0)) {
      Next();
      MIXTERA_ASSIGN_OR_RETURN(Predicate child, ParseNot(depth + 1));
      Predicate out;
      out.kind = Predicate::Kind::kNot;
      out.children.push_back(std::move(child));
      return out;
    }
    return ParseAtom(depth);
  }

  Result<Predicate> ParseAtom(int depth) {
    const Token& first = Peek();
    if (first.kind == Token::Kind::kLParen) {
      Next();
      MIXTERA_ASSIGN_OR_RETURN(Predicate inner, ParseOr(depth + 1));
      if (Peek().kind != Token::Kind::kRParen) {
        return Error(Peek(), StrCat("expected ')' to close the '(' at column ",
                                    Column(first.offset), ", got ", Describe(Peek())));
      }
      Next();
      return inner;
    }
    if (first.kind != Token::Kind::kIdent) {
      return Error(first, StrCat("expected a property name, 'not' or '(', got ", Describe(first)));
    }
    const Token& prop_token = Next();
    Predicate out;
    out.property = std::string(prop_token.text);
    const Token& op = Peek();
    if (op.kind == Token::Kind::kOp) {
      Next();
      out.kind = Predicate::Kind::kCompare;
      out.op = op.op;
      MIXTERA_ASSIGN_OR_RETURN(Literal value, ParseLiteral(StrCat("after '", op.text, "'")));
      out.values.push_back(std::move(value));
      return out;
    }
    if (IsKeyword(op, "in")) {
      Next();
      out.kind = Predicate::Kind::kIn;
      MIXTERA_RETURN_IF_ERROR(ParseList("in", &out.values));
      return out;
    }
    if (IsKeyword(op, "not")) {
      Next();
      if (!IsKeyword(Peek(), "in")) {
        return Error(
            Peek(), StrCat("expected 'in' after '", out.property, " not', got ", Describe(Peek())));
      }
      Next();
      out.kind = Predicate::Kind::kIn;
      MIXTERA_RETURN_IF_ERROR(ParseList("not in", &out.values));
      Predicate negated;
      negated.kind = Predicate::Kind::kNot;
      negated.children.push_back(std::move(out));
      return negated;
    }
    if (IsKeyword(op, "contains")) {
      Next();
      out.kind = Predicate::Kind::kContains;
      MIXTERA_ASSIGN_OR_RETURN(Literal value, ParseLiteral("after 'contains'"));
      out.values.push_back(std::move(value));
      return out;
    }
    if (IsKeyword(op, "is")) {
      Next();
      out.kind = Predicate::Kind::kIsNull;
      if (IsKeyword(Peek(), "not")) {
        Next();
        out.kind = Predicate::Kind::kIsNotNull;
      }
      if (!IsKeyword(Peek(), "null")) {
        return Error(Peek(), StrCat("expected 'null' after '",
                                    out.kind == Predicate::Kind::kIsNull ? "is" : "is not",
                                    "', got ", Describe(Peek())));
      }
      Next();
      return out;
    }
    return Error(op, StrCat("expected an operator (==, !=, <, <=, >, >=, in, not in, contains, "
                            "is) after property '",
                            out.property, "', got ", Describe(op)));
  }

  // "(" literal ("," literal)* ")"
  Status ParseList(std::string_view after, std::vector<Literal>* out) {
    if (Peek().kind != Token::Kind::kLParen) {
      return Error(Peek(), StrCat("expected '(' after '", after, "', got ", Describe(Peek())));
    }
    Next();
    MIXTERA_ASSIGN_OR_RETURN(Literal first, ParseLiteral("in the value list"));
    out->push_back(std::move(first));
    while (Peek().kind == Token::Kind::kComma) {
      Next();
      MIXTERA_ASSIGN_OR_RETURN(Literal next, ParseLiteral("after ','"));
      out->push_back(std::move(next));
    }
    if (Peek().kind != Token::Kind::kRParen) {
      return Error(Peek(), StrCat("expected ',' or ')' in the value list, got ", Describe(Peek())));
    }
    Next();
    return Status::OK();
  }

  Result<Literal> ParseLiteral(const std::string& where) {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kString || t.kind == Token::Kind::kNumber) {
      Next();
      return t.literal;
    }
    if (IsKeyword(t, "true") || IsKeyword(t, "false")) {
      Next();
      return Literal::Bool(IsKeyword(t, "true"));
    }
    if (IsKeyword(t, "null")) {
      return Error(t, StrCat("expected a literal ", where,
                             ", got 'null' (test for NULL with 'is null' / 'is not null')"));
    }
    if (t.kind == Token::Kind::kIdent && !IsOperatorKeyword(t)) {
      return Error(t, StrCat("expected a literal ", where, ", got ", Describe(t),
                             " (strings are single-quoted: '", t.text, "')"));
    }
    return Error(t, StrCat("expected a literal ", where, ", got ", Describe(t)));
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// --- Printing -----------------------------------------------------------------------------

// Binding strength of what a node prints as: or < and < not < atom.
enum Precedence { kPrecOr = 1, kPrecAnd = 2, kPrecNot = 3, kPrecAtom = 4 };

bool IsNotIn(const Predicate& p) {
  return p.kind == Predicate::Kind::kNot && p.children.size() == 1 &&
         p.children[0].kind == Predicate::Kind::kIn;
}

Precedence PrecedenceOf(const Predicate& p) {
  switch (p.kind) {
    case Predicate::Kind::kOr:
      return p.children.size() == 1 ? PrecedenceOf(p.children[0]) : kPrecOr;
    case Predicate::Kind::kAnd:
      return p.children.size() == 1 ? PrecedenceOf(p.children[0]) : kPrecAnd;
    case Predicate::Kind::kNot:
      return IsNotIn(p) ? kPrecAtom : kPrecNot;
    case Predicate::Kind::kTrue:
      return kPrecAtom;  // nested: `dataset is not null`
    default:
      return kPrecAtom;
  }
}

void PrintValues(const std::vector<Literal>& values, std::string* out) {
  out->push_back('(');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->append(", ");
    out->append(LiteralToString(values[i]));
  }
  out->push_back(')');
}

void Print(const Predicate& p, std::string* out);

// Prints `child`, parenthesized unless it binds more strongly than `min_exclusive`.
void PrintChild(const Predicate& child, Precedence min_exclusive, std::string* out) {
  const bool parens = PrecedenceOf(child) <= min_exclusive;
  if (parens) out->push_back('(');
  Print(child, out);
  if (parens) out->push_back(')');
}

void Print(const Predicate& p, std::string* out) {
  auto first_value = [&]() {
    return p.values.empty() ? std::string("?") : LiteralToString(p.values[0]);
  };
  switch (p.kind) {
    case Predicate::Kind::kTrue:
      out->append("dataset is not null");
      return;
    case Predicate::Kind::kAnd:
    case Predicate::Kind::kOr: {
      const bool is_and = p.kind == Predicate::Kind::kAnd;
      if (p.children.empty()) {  // invalid; and() is true, or() is false
        out->append(is_and ? "dataset is not null" : "dataset is null");
        return;
      }
      if (p.children.size() == 1) {
        Print(p.children[0], out);
        return;
      }
      for (size_t i = 0; i < p.children.size(); ++i) {
        if (i > 0) out->append(is_and ? " and " : " or ");
        // Same-kind children keep their parentheses, so the tree's grouping round-trips.
        PrintChild(p.children[i], is_and ? kPrecAnd : kPrecOr, out);
      }
      return;
    }
    case Predicate::Kind::kNot: {
      if (IsNotIn(p)) {
        const Predicate& in = p.children[0];
        out->append(in.property).append(" not in ");
        PrintValues(in.values, out);
        return;
      }
      out->append("not ");
      if (p.children.size() == 1) {
        PrintChild(p.children[0], kPrecAnd, out);
      } else {  // invalid; read as not (a and b ...)
        Predicate all;
        all.kind = Predicate::Kind::kAnd;
        all.children = p.children;
        PrintChild(all, kPrecAnd, out);
      }
      return;
    }
    case Predicate::Kind::kCompare:
      out->append(p.property)
          .append(" ")
          .append(CompareOpText(p.op))
          .append(" ")
          .append(first_value());
      return;
    case Predicate::Kind::kIn:
      out->append(p.property).append(" in ");
      PrintValues(p.values, out);
      return;
    case Predicate::Kind::kContains:
      out->append(p.property).append(" contains ").append(first_value());
      return;
    case Predicate::Kind::kIsNull:
      out->append(p.property).append(" is null");
      return;
    case Predicate::Kind::kIsNotNull:
      out->append(p.property).append(" is not null");
      return;
  }
}

}  // namespace

Result<Predicate> ParseWhere(std::string_view text) { return Parser(text).Parse(); }

std::string PredicateToString(const Predicate& p) {
  if (p.kind == Predicate::Kind::kTrue) return "";
  std::string out;
  Print(p, &out);
  return out;
}

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::string LiteralToString(const Literal& literal) {
  switch (literal.kind) {
    case Literal::Kind::kString: {
      std::string out = "'";
      for (char c : literal.string_value) {
        if (c == '\'') out.push_back('\'');
        out.push_back(c);
      }
      out.push_back('\'');
      return out;
    }
    case Literal::Kind::kInt:
      return std::to_string(literal.int_value);
    case Literal::Kind::kFloat: {
      char buf[64];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), literal.float_value);
      std::string out(buf, ec == std::errc() ? ptr : buf);
      if (!std::isfinite(literal.float_value)) return out;  // not spellable; for messages only
      if (out.find_first_of(".e") == std::string::npos) out += ".0";
      return out;
    }
    case Literal::Kind::kBool:
      return literal.bool_value ? "true" : "false";
  }
  return "?";
}

bool IsPropertyName(std::string_view name) {
  if (name.empty() || !IsIdentStart(name[0])) return false;
  for (char c : name) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

}  // namespace mixtera::query
