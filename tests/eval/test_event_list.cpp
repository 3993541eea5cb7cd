// Event lists as DCASE / sed_eval write them, and segment-based metrics against sed_eval's
// definitions re-stated in numpy (tools/fixtures/make_event_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/eval/event_list.h"

namespace tutti::eval {
namespace {

using testing::error_of;

// Absolute 1e-9, relative for sed_eval's eps-sized denominators (error rates near 4e16).
void expect_close(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-9 * std::max(1.0, std::abs(want))) << what;
}

TEST(SegmentMetricsSedEval, MatchTheReferenceDefinitionsOnTheDcaseFixture) {
  const auto ref = read_event_list(testing::fixture("events/reference.tsv"));
  const auto est = read_event_list(testing::fixture("events/estimate.tsv"));
  EXPECT_EQ(ref.files, (std::vector<std::string>{"a.wav", "sub/b.wav", "c.wav", "d.wav"}));
  const auto ex = core::Json::parse(core::read_file_text(testing::fixture("events/expected.json")));
  const auto r = segment_based_metrics(ref.events, est.events, {}, 1.0);
  EXPECT_EQ(r.counts.tp, ex["tp"].get<std::int64_t>());
  EXPECT_EQ(r.counts.fp, ex["fp"].get<std::int64_t>());
  EXPECT_EQ(r.counts.fn, ex["fn"].get<std::int64_t>());
  EXPECT_EQ(r.substitutions, ex["substitutions"].get<std::int64_t>());
  EXPECT_EQ(r.deletions, ex["deletions"].get<std::int64_t>());
  EXPECT_EQ(r.insertions, ex["insertions"].get<std::int64_t>());
  for (const auto& [name, v] :
       std::vector<std::pair<const char*, double>>{{"precision", r.precision},
                                                   {"recall", r.recall},
                                                   {"f1", r.f1},
                                                   {"error_rate", r.error_rate},
                                                   {"substitution_rate", r.substitution_rate},
                                                   {"deletion_rate", r.deletion_rate},
                                                   {"insertion_rate", r.insertion_rate}})
    expect_close(v, ex[name].get<double>(), name);
  const auto& cw = ex["class_wise"];
  expect_close(r.class_wise.f1, cw["f1"].get<double>(), "class-wise f1");
  expect_close(r.class_wise.precision, cw["precision"].get<double>(), "class-wise precision");
  expect_close(r.class_wise.recall, cw["recall"].get<double>(), "class-wise recall");
  expect_close(r.class_wise.error_rate, cw["error_rate"].get<double>(), "class-wise ER");
  expect_close(r.class_wise.deletion_rate, cw["deletion_rate"].get<double>(), "class-wise D");
  expect_close(r.class_wise.insertion_rate, cw["insertion_rate"].get<double>(), "class-wise I");
  const auto labels = ex["classes"].get<std::vector<std::string>>();
  ASSERT_EQ(r.per_class.size(), labels.size());
  for (std::size_t k = 0; k < labels.size(); ++k) {
    const auto& m = r.per_class[k];
    const auto& e = ex["per_class"][labels[k]];
    EXPECT_EQ(m.label, labels[k]);
    EXPECT_EQ(m.counts.tp, e["tp"].get<std::int64_t>()) << m.label;
    EXPECT_EQ(m.counts.fp, e["fp"].get<std::int64_t>()) << m.label;
    EXPECT_EQ(m.counts.fn, e["fn"].get<std::int64_t>()) << m.label;
    for (const char* key :
         {"precision", "recall", "f1", "error_rate", "deletion_rate", "insertion_rate"}) {
      const double got = std::string(key) == "precision"       ? m.precision
                         : std::string(key) == "recall"        ? m.recall
                         : std::string(key) == "f1"            ? m.f1
                         : std::string(key) == "error_rate"    ? m.error_rate
                         : std::string(key) == "deletion_rate" ? m.deletion_rate
                                                               : m.insertion_rate;
      expect_close(got, e[key].get<double>(), m.label + " " + key);
    }
  }
  // "voice" is only in the estimate: sed_eval's eps makes its error rate enormous.
  EXPECT_GT(r.per_class.back().error_rate, 1e15);
}

TEST(EventList, HeadersSeparatorsAndFilesWithoutEvents) {
  // tutti's own columns, comma-separated, in another order, with an extra column.
  auto l = parse_event_list(
      "instrument,file,offset_s,onset_s,note\npiano,x.wav,2.5,0.5,n\ndrums,y.wav,1,0,\n", "a");
  ASSERT_EQ(l.events.size(), 2u);
  EXPECT_EQ(l.events[0].file, "x.wav");
  EXPECT_EQ(l.events[0].label, "piano");
  EXPECT_DOUBLE_EQ(l.events[0].onset_s, 0.5);
  EXPECT_DOUBLE_EQ(l.events[0].offset_s, 2.5);
  // sed_eval's 3-column annotation of one file, and a DCASE file-only line.
  l = parse_event_list("0.0\t1.5\tspeech\n# comment\n2\t3\tdog\n", "b");
  ASSERT_EQ(l.events.size(), 2u);
  EXPECT_EQ(l.events[1].file, "");
  EXPECT_EQ(l.events[1].label, "dog");
  l = parse_event_list("filename\tonset\toffset\tevent_label\nq.wav\nr.wav\t1\t2\tcat\n", "c");
  EXPECT_EQ(l.files, (std::vector<std::string>{"q.wav", "r.wav"}));
  EXPECT_EQ(l.events.size(), 1u);
  EXPECT_TRUE(parse_event_list("", "d").events.empty());
}

TEST(EventList, BadRowsNameTheListAndLine) {
  EXPECT_EQ(error_of([] { parse_event_list("a.wav\tx\t1\tcat\n", "l.tsv"); }),
            "l.tsv:1: onset 'x' is not a number");
  EXPECT_EQ(error_of([] { parse_event_list("a.wav\t2\t1\tcat\n", "l.tsv"); }),
            "l.tsv:1: offset 1 s before onset 2 s");
  EXPECT_EQ(error_of([] { parse_event_list("a.wav\t0\t1\tcat\nb.wav\t0\t1\n", "l.tsv"); }),
            "l.tsv:2: 3 fields, expected 4");
  EXPECT_EQ(error_of([] { parse_event_list("a.wav\t0\t1\t\n", "l.tsv"); }),
            "l.tsv:1: empty event label");
  EXPECT_NE(error_of([] {
              parse_event_list("file\tonset\tend\tlabel\n", "l.tsv");
            }).find("l.tsv:1: the header names no offset"),
            std::string::npos);
  EXPECT_EQ(error_of([] { parse_event_list("a.wav\t-1\t1\tcat\n", "l.tsv"); }),
            "l.tsv:1: onset -1 s is negative");
  EXPECT_EQ(error_of([] { read_event_list("/nonexistent/ev.tsv"); }),
            "/nonexistent/ev.tsv: no such file");
}

}  // namespace
}  // namespace tutti::eval
