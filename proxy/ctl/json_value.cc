#include "proxy/ctl/json_value.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sippacer::proxy {
namespace {

class Parser {
 public:
  explicit Parser(absl::string_view s) : s_(s) {}

  absl::StatusOr<JsonValue> Document() {
    auto v = Value(0);
    if (!v.ok()) return v;
    Skip();
    if (i_ != s_.size()) return Error("trailing characters");
    return v;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("bad JSON at offset ", i_, ": ", what));
  }
  void Skip() {
    while (i_ < s_.size() && absl::ascii_isspace(s_[i_])) ++i_;
  }
  bool Eat(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  absl::StatusOr<JsonValue> Value(int depth) {
    if (depth > 64) return Error("nested too deep");
    Skip();
    if (i_ >= s_.size()) return Error("unexpected end");
    JsonValue v;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.type = JsonValue::Type::kObject;
      if (Eat('}')) return v;
      do {
        Skip();
        auto key = String();
        if (!key.ok()) return key.status();
        if (!Eat(':')) return Error("expected ':'");
        auto val = Value(depth + 1);
        if (!val.ok()) return val;
        v.fields.emplace_back(*std::move(key), *std::move(val));
      } while (Eat(','));
      if (!Eat('}')) return Error("expected '}'");
      return v;
    }
    if (c == '[') {
      ++i_;
      v.type = JsonValue::Type::kArray;
      if (Eat(']')) return v;
      do {
        auto val = Value(depth + 1);
        if (!val.ok()) return val;
        v.items.push_back(*std::move(val));
      } while (Eat(','));
      if (!Eat(']')) return Error("expected ']'");
      return v;
    }
    if (c == '"') {
      auto str = String();
      if (!str.ok()) return str.status();
      v.type = JsonValue::Type::kString;
      v.text = *std::move(str);
      return v;
    }
    for (const auto& [word, type, b] : {std::make_tuple("true", JsonValue::Type::kBool, true),
                                        std::make_tuple("false", JsonValue::Type::kBool, false),
                                        std::make_tuple("null", JsonValue::Type::kNull, false)}) {
      if (s_.substr(i_, std::char_traits<char>::length(word)) == word) {
        i_ += std::char_traits<char>::length(word);
        v.type = type;
        v.boolean = b;
        return v;
      }
    }
    const size_t start = i_;
    while (i_ < s_.size() && (absl::ascii_isdigit(s_[i_]) || s_[i_] == '-' || s_[i_] == '+' || s_[i_] == '.' ||
                              s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
    }
    v.text = std::string(s_.substr(start, i_ - start));
    if (v.text.empty() || !absl::SimpleAtod(v.text, &v.number)) return Error("expected a value");
    v.type = JsonValue::Type::kNumber;
    return v;
  }

  absl::StatusOr<std::string> String() {
    if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return Error("bad escape");
      c = s_[i_++];
      switch (c) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (i_ + 4 > s_.size() || !absl::SimpleHexAtoi(s_.substr(i_, 4), &cp)) return Error("bad \\u escape");
          i_ += 4;
          if (cp < 0x80)
            out.push_back(static_cast<char>(cp));
          else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          out.push_back(c);
      }
    }
    if (i_ >= s_.size()) return Error("unterminated string");
    ++i_;
    return out;
  }

  absl::string_view s_;
  size_t i_ = 0;
};

}  // namespace

const JsonValue* JsonValue::Get(absl::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string JsonValue::ToText() const {
  switch (type) {
    case Type::kNull:
      return "";
    case Type::kBool:
      return boolean ? "true" : "false";
    case Type::kNumber:
      return text;
    case Type::kString:
      return text;
    case Type::kArray:
      return absl::StrCat("[", items.size(), " items]");
    case Type::kObject: {
      std::string out;
      for (const auto& [k, v] : fields) absl::StrAppend(&out, out.empty() ? "" : " ", k, "=", v.ToText());
      return out;
    }
  }
  return "";
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) { return Parser(text).Document(); }

}  // namespace sippacer::proxy
