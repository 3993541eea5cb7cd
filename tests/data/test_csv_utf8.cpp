// The one CSV reader refuses text that is not UTF-8, naming the file and line (keys and names end
// up in .npz unicode arrays, which would otherwise fail later naming neither), and every reader of
// CSV files skips a byte-order mark, including AudioSet's class_labels_indices.csv.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/data/csv.h"
#include "tutti/data/taxonomy.h"

namespace tutti::data {
namespace {

using tutti::testing::error_of;

TEST(CsvUtf8, ValidTextOfEveryLengthIsRead) {
  // 2-, 3- and 4-byte sequences at their bounds: U+0080, U+07FF, U+0800, U+FFFF (not a surrogate),
  // U+10000, U+10FFFF.
  const std::string s =
      "k,v\n\xC2\x80,\xDF\xBF\n\xE0\xA0\x80,\xEF\xBF\xBF\n\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF\n";
  const auto rows = parse_csv(s, "x.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].fields[1], "\xF4\x8F\xBF\xBF");
}

TEST(CsvUtf8, InvalidBytesAreNamedWithFileAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"a,b\nc,caf\xE9\n",
       "x.csv:2: not valid UTF-8 (byte 0xE9 at byte 6 of the line)"},                  // Latin-1
      {"\xC0\xAF,b\n", "x.csv:1: not valid UTF-8 (byte 0xC0 at byte 1 of the line)"},  // overlong
      {"a\n\n\"x\ny\",\xED\xA0\x80\n", "x.csv:4:"},  // a surrogate, after a quoted line break
      {"a,\xF4\x90\x80\x80\n", "x.csv:1:"},          // above U+10FFFF
      {"a,\xE2\x82", "x.csv:1: not valid UTF-8 (byte 0xE2 at byte 3"},  // cut at the end
      {"a,\x80\n", "x.csv:1:"},                                         // a lone continuation byte
  };
  for (const auto& [text, want] : cases) {
    const auto msg = error_of([&] { parse_csv(text, "x.csv"); });
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
  }
}

TEST(CsvUtf8, ClassLabelsCsvSkipsAByteOrderMarkAndChecksUtf8) {
  const auto c = parse_class_labels_csv(
      "\xEF\xBB\xBFindex,mid,display_name\r\n0,/m/a,\"Speech, male\"\r\n1,/m/b,Caf\xC3\xA9\r\n",
      "c.csv");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].display_name, "Speech, male");
  EXPECT_EQ(c[1].display_name, "Caf\xC3\xA9");
  const auto msg =
      error_of([] { parse_class_labels_csv("index,mid,display_name\n0,/m/a,Caf\xE9\n", "c.csv"); });
  EXPECT_NE(msg.find("c.csv:2: not valid UTF-8"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tutti::data
