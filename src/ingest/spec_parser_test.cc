#include "ingest/spec_parser.h"

#include "testing/test_util.h"

namespace mixtera::ingest {
namespace {

using model::DataFormat;
using model::PropertyType;

TEST(SpecParserTest, ParsesFullYamlSpec) {
  const char* yaml = R"(
name: web
format: jsonl
path: [data/*.jsonl, /abs/x.jsonl]
text: text
on_error: skip
properties:
  language: {type: string, field: /meta/lang, nullable: true}
  license: {type: enum, values: [MIT, GPL-2.0]}
  stars: int
  tags: {type: string_list}
)";
  ASSERT_OK_AND_ASSIGN(auto spec, ParseDatasetSpec(yaml, "/base/dir"));
  EXPECT_EQ(spec.name, "web");
  EXPECT_EQ(spec.format, DataFormat::kJsonl);
  ASSERT_EQ(spec.path_patterns.size(), 2u);
  EXPECT_EQ(spec.path_patterns[0], "/base/dir/data/*.jsonl");
  EXPECT_EQ(spec.path_patterns[1], "/abs/x.jsonl");
  ASSERT_EQ(spec.text_fields.size(), 1u);
  EXPECT_EQ(spec.text_fields[0], "/text");
  EXPECT_EQ(spec.on_error, model::OnError::kSkip);
  ASSERT_EQ(spec.properties.size(), 4u);
  EXPECT_EQ(spec.properties[0].name, "language");
  EXPECT_EQ(spec.properties[0].field, "/meta/lang");
  EXPECT_TRUE(spec.properties[0].nullable);
  EXPECT_EQ(spec.properties[1].type, PropertyType::kEnum);
  EXPECT_EQ(spec.properties[1].enum_values, (std::vector<std::string>{"MIT", "GPL-2.0"}));
  EXPECT_EQ(spec.properties[1].field, "/license");
  EXPECT_FALSE(spec.properties[1].nullable);
  EXPECT_EQ(spec.properties[2].type, PropertyType::kInt);
  EXPECT_EQ(spec.properties[3].type, PropertyType::kStringList);
}

TEST(SpecParserTest, JsonSpecAndListFormOfProperties) {
  const char* json = R"({"name": "p", "format": "parquet", "path": "x.parquet",
    "properties": [{"name": "lang", "type": "string", "field": "/language"}]})";
  ASSERT_OK_AND_ASSIGN(auto spec, ParseDatasetSpec(json, "/d"));
  EXPECT_EQ(spec.format, DataFormat::kParquet);
  ASSERT_EQ(spec.properties.size(), 1u);
  EXPECT_EQ(spec.properties[0].field, "language");  // parquet: a column name
}

TEST(SpecParserTest, WebDatasetFieldsDefaultToJsonMember) {
  const char* yaml =
      "name: w\nformat: webdataset\npath: a.tar\ntext: txt\n"
      "properties: {category: string, label: {type: int, field: cls}}\n";
  ASSERT_OK_AND_ASSIGN(auto spec, ParseDatasetSpec(yaml, "/d"));
  EXPECT_EQ(spec.properties[0].field, "json:/category");
  EXPECT_EQ(spec.properties[1].field, "cls");
  EXPECT_EQ(spec.text_fields[0], "txt");
}

TEST(SpecParserTest, PresetMergesWithOverrides) {
  const char* yaml =
      "name: pile\nformat: jsonl\npath: p.jsonl\npreset: PILE\n"
      "properties:\n  pile_set_name: {type: enum, values: [Github, ArXiv], nullable: true}\n"
      "  extra: bool\n";
  ASSERT_OK_AND_ASSIGN(auto spec, ParseDatasetSpec(yaml, "/d"));
  ASSERT_EQ(spec.properties.size(), 2u);
  EXPECT_EQ(spec.properties[0].name, "pile_set_name");
  EXPECT_TRUE(spec.properties[0].nullable);
  EXPECT_EQ(spec.properties[0].enum_values.size(), 2u);
  EXPECT_EQ(spec.properties[0].field, "/meta/pile_set_name");  // kept from the preset
  EXPECT_EQ(spec.properties[1].name, "extra");

  ASSERT_OK_AND_ASSIGN(auto pile, PresetProperties("PILE", DataFormat::kJsonl));
  EXPECT_EQ(pile[0].enum_values.size(), 22u);
  ASSERT_OK_AND_ASSIGN(auto rp, PresetProperties("RED_PAJAMA", DataFormat::kJsonl));
  EXPECT_EQ(rp[0].field, "/meta/language/*/name");
  ASSERT_OK_AND_ASSIGN(auto fw, PresetProperties("FINEWEB", DataFormat::kParquet));
  EXPECT_EQ(fw[0].field, "dump");
  EXPECT_STATUS(PresetProperties("NOPE", DataFormat::kJsonl), StatusCode::kInvalidArgument,
                "known presets");
}

TEST(SpecParserTest, RejectsBadSpecsWithClearMessages) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"name: a\nformat: jsonl\npath: x\nextra: 1\n", "unknown spec key 'extra'"},
      // Duplicate keys (issue: hardening, 9): at the top and within properties.
      {"name: p7\nformat: jsonl\npath: x\nname: p8\n", "spec: key 'name' appears twice"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {lang: string, lang: int}\n",
       "spec.properties: key 'lang' appears twice"},
      {"{\"name\": \"a\", \"format\": \"jsonl\", \"path\": \"x\", \"text\": \"t\", \"text\": "
       "\"u\"}",
       "spec: key 'text' appears twice"},
      {"format: jsonl\npath: x\n", "missing 'name'"},
      {"name: a\npath: x\n", "missing 'format'"},
      {"name: a\nformat: csv\npath: x\n", "unknown format 'csv'"},
      {"name: a\nformat: jsonl\n", "missing 'path'"},
      {"name: a\nformat: jsonl\npath: x\non_error: ignore\n", "on_error must be"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: integer}\n",
       "unknown property type 'integer'"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: {type: enum}}\n", "needs 'values'"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: {type: int, values: [1]}}\n",
       "only allowed for type enum"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: {type: int, colour: red}}\n",
       "unknown key 'colour'"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {file_id: int}\n", "reserved"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {\"bad-name\": int}\n", "must match"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: {type: string, field: /a/*/b}}\n",
       "only a string_list"},
      {"name: a\nformat: jsonl\npath: x\nproperties: {p: {type: int, nullable: maybe}}\n",
       "true or false"},
      {"[1, 2]", "must be a mapping"},
      {"name: [unclosed", "not valid YAML"},
      {"name: a\nformat: jsonl\npath: x\npreset: PILES\n", "unknown preset 'PILES'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto spec = ParseDatasetSpec(c.yaml, "/d");
    EXPECT_STATUS(spec, StatusCode::kInvalidArgument, c.message);
  }
}

TEST(SpecParserTest, SpecFileResolvesRelativePathsAgainstItsFolder) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("sub/spec.yaml"), "name: a\nformat: jsonl\npath: ../data/*.jsonl\n");
  ASSERT_OK_AND_ASSIGN(auto spec, ParseDatasetSpecFile(dir.Join("sub/spec.yaml")));
  EXPECT_EQ(spec.path_patterns[0], dir.Join("data/*.jsonl"));
  EXPECT_STATUS(ParseDatasetSpecFile(dir.Join("missing.yaml")), StatusCode::kNotFound,
                "missing.yaml");
}

}  // namespace
}  // namespace mixtera::ingest
