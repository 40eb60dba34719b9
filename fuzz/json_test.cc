// Json: round trips, escaping, malformed input.
#include "fuzz/json.h"

#include <gtest/gtest.h>

namespace storsim::fuzz {
namespace {

TEST(JsonTest, RoundTripsNestedValues) {
  Json json;
  json.Set("name", "a \"quoted\"\nline");
  json.Set("n", int64_t{-12345678901234});
  json.Set("ok", true);
  json.Set("none", nullptr);
  Json list;
  list.Append(1);
  list.Append("two");
  list.Append(Json(Json::Object{}));
  json.Set("list", list);
  const std::string text = json.Dump();
  auto parsed = Json::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Dump(), text);
  EXPECT_EQ((*parsed)["name"].AsString(), "a \"quoted\"\nline");
  EXPECT_EQ((*parsed)["n"].AsInt(), -12345678901234);
  EXPECT_EQ((*parsed)["list"].AsArray().size(), 3u);
  EXPECT_TRUE((*parsed)["missing"].is_null());
}

TEST(JsonTest, KeysAreWrittenInSortedOrder) {
  Json json;
  json.Set("b", 1);
  json.Set("a", 2);
  EXPECT_EQ(json.Dump(), "{\"a\":2,\"b\":1}");
}

TEST(JsonTest, MalformedInputNamesTheOffset) {
  for (const char* bad : {"", "{", "{\"a\" 1}", "[1,]", "\"unterminated", "tru", "{\"a\":1} x",
                          "\"\\q\""}) {
    auto parsed = Json::Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(std::string(parsed.status().message()).find("at byte"), std::string::npos);
  }
}

TEST(JsonTest, DeepNestingIsRefused) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(Json::Parse(deep).ok());
}

}  // namespace
}  // namespace storsim::fuzz
