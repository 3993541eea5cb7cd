// core/pickle.h against pickles written by Python itself (tests/fixtures/fuzz/fuzz_pickle/, made by
// tools/fixtures/make_pickle_corpus.py), and every error path on hand-made inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/pickle.h"

namespace tutti::core {
namespace {

using tutti::testing::error_of;
using V = PickleValue;
using namespace std::string_literals;

std::vector<std::uint8_t> corpus(const std::string& name) {
  return read_file_bytes(tutti::testing::source_dir() / "tests" / "fixtures" / "fuzz" /
                         "fuzz_pickle" / name);
}

// The value under string key `key` of dict value `dict`.
int dict_get(const Unpickler& u, int dict, const std::string& key) {
  const V& d = u.value(dict);
  EXPECT_EQ(d.kind, V::kDict);
  for (std::size_t j = 0; j + 1 < d.items.size(); j += 2)
    if (u.value(d.items[j]).kind == V::kStr && u.value(d.items[j]).s == key) return d.items[j + 1];
  ADD_FAILURE() << "no key " << key;
  return 0;
}

TEST(Pickle, ReadsPythonContainersOfEveryProtocol) {
  for (const char* name : {"plain_p2.pkl", "plain_p4.pkl"}) {
    SCOPED_TRACE(name);
    const auto bytes = corpus(name);
    Unpickler u(bytes.data(), bytes.size(), {});
    const int root = u.run();
    EXPECT_EQ(u.pos(), bytes.size());
    const V& ints = u.value(dict_get(u, root, "ints"));
    const std::int64_t want[] = {0,         1,        -1, 255, 65535, -2147483648LL, 2147483647LL,
                                 INT64_MAX, INT64_MIN};
    ASSERT_EQ(ints.items.size(), 10u);
    for (std::size_t j = 0; j < 9; ++j) {
      EXPECT_EQ(u.value(ints.items[j]).kind, V::kInt) << j;
      EXPECT_EQ(u.value(ints.items[j]).i, want[j]) << j;
    }
    const V& big = u.value(ints.items[9]);  // 2**80: LONG1 of 11 bytes
    EXPECT_EQ(big.kind, V::kBigInt);
    EXPECT_EQ(big.s, std::string(10, '\0') + "\x01");
    EXPECT_EQ(u.value(dict_get(u, root, "float")).f, 0.1);
    const V& b = u.value(dict_get(u, root, "bytes"));  // protocol 2: _codecs.encode(...) call
    if (std::string(name) == "plain_p4.pkl") EXPECT_EQ(b.s, std::string("\0\1", 2));
    if (std::string(name) == "plain_p2.pkl") EXPECT_EQ(b.kind, V::kObject);
    EXPECT_EQ(u.value(dict_get(u, root, "none")).kind, V::kNone);
    const V& bools = u.value(dict_get(u, root, "bools"));
    EXPECT_EQ(u.value(bools.items[0]).kind, V::kBool);
    EXPECT_EQ(u.value(bools.items[0]).i, 1);
    EXPECT_EQ(u.value(bools.items[1]).i, 0);
    const V& tuple = u.value(dict_get(u, root, "tuple"));  // (1, (2, 3), ())
    ASSERT_EQ(tuple.items.size(), 3u);
    EXPECT_EQ(u.value(tuple.items[1]).items.size(), 2u);
    EXPECT_EQ(u.value(tuple.items[2]).kind, V::kTuple);
    const V& shared = u.value(dict_get(u, root, "shared"));  // the memo: one list, twice
    ASSERT_EQ(shared.items.size(), 2u);
    EXPECT_EQ(shared.items[0], shared.items[1]);
  }
}

TEST(Pickle, NumpyArrayReductionStaysInert) {
  for (const char* name : {"numpy_strings_p2.pkl", "numpy_strings_p5.pkl"}) {
    SCOPED_TRACE(name);
    const auto bytes = corpus(name);
    Unpickler u(bytes.data(), bytes.size(), {});
    const V& root = u.value(u.run());
    ASSERT_EQ(root.kind, V::kObject);
    ASSERT_EQ(root.items.size(), 3u);  // callable, args, BUILD state
    const V& fn = u.value(root.items[0]);
    EXPECT_EQ(fn.kind, V::kGlobal);
    EXPECT_EQ(fn.s2, "_reconstruct");
    const V& list = u.value(u.value(root.items[2]).items[4]);
    ASSERT_EQ(list.items.size(), 4u);
    EXPECT_EQ(u.value(list.items[3]).s,
              "\xc3\xbcn\xc3\xaf"
              "code");
  }
}

TEST(Pickle, HooksDecideCallsAndPersistentIds) {
  const auto bytes = corpus("torch_state_dict.pkl");
  {
    Unpickler u(bytes.data(), bytes.size(), {.what = "sd", .reads = "dicts only"});
    const auto msg = error_of([&] { u.run(); });
    EXPECT_NE(msg.find("sd: the pickle holds a persistent id (dicts only)"), std::string::npos)
        << msg;
  }
  int calls = 0, pids = 0;
  PickleOptions o;
  o.reduce = [&](Unpickler& u, int callable, int) {
    ++calls;
    EXPECT_EQ(u.value(callable).kind, V::kGlobal);
    return u.make(V::kDict);
  };
  o.persistent_load = [&](Unpickler& u, int pid) {
    ++pids;
    EXPECT_EQ(u.value(pid).kind, V::kTuple);
    return u.make(V::kNone);
  };
  Unpickler u(bytes.data(), bytes.size(), o);
  EXPECT_EQ(u.value(u.run()).kind, V::kDict);
  EXPECT_EQ(calls, 7);  // OrderedDict(), three _rebuild_tensor_v2 and their hook dicts
  EXPECT_EQ(pids, 3);
}

TEST(Pickle, EveryTruncationThrowsCleanly) {
  for (const char* name : {"plain_p2.pkl", "plain_p4.pkl", "numpy_strings_p4.pkl"}) {
    const auto bytes = corpus(name);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      Unpickler u(bytes.data(), n, {});
      EXPECT_THROW(u.run(), Error) << name << " cut at " << n;
    }
  }
}

TEST(Pickle, RejectsMalformedInput) {
  const std::pair<std::string, const char*> cases[] = {
      {"\x80\x02h\x07.", "x: malformed pickle (unknown memo key 7)"},
      {"\x80\x02q\x00"s, "memo on an empty stack"},
      {"\x80\x02t.", "no MARK"},
      {"\x80\x02"
       "a.",
       "stack underflow"},
      {"\x80\x02]].", "malformed pickle at STOP"},
      {"\x80\x02K\x01]a.", "malformed pickle (append to a int)"},
      {"\x80\x02]K\x01K\x02s.", "malformed pickle (setitem on a list)"},
      {"(K\x01"
       "d.",
       "malformed pickle (DICT)"},
      {"}(K\x01u.", "malformed pickle (SETITEMS)"},
      {"K\x01K\x02\x93.", "STACK_GLOBAL"},
      {"cos\nsystem\nK\x01R.", "REDUCE args"},
      {"c" + std::string(300, 'a') + "\n", "GLOBAL name too long"},
      {"X\xff\xff\xff\x7f", "x: the pickle is truncated"},
      {"\x8d\xff\xff\xff\xff\xff\xff\xff\xff", "truncated"},
      {"\xff", "opcode 0xff at byte 0, which tutti does not read (reads)"},
  };
  for (const auto& [pickle, message] : cases) {
    Unpickler u(reinterpret_cast<const std::uint8_t*>(pickle.data()), pickle.size(),
                {.what = "x", .reads = "reads"});
    const std::string msg = error_of([&] { u.run(); });
    EXPECT_NE(msg.find(message), std::string::npos) << msg;
  }
}

TEST(Pickle, AcceptsOnlyTheGivenOpcodes) {
  const std::string p = "\x80\x02\x8a\x01\x01.";  // LONG1
  Unpickler all(reinterpret_cast<const std::uint8_t*>(p.data()), p.size(), {});
  EXPECT_EQ(all.value(all.run()).i, 1);
  Unpickler few(reinterpret_cast<const std::uint8_t*>(p.data()), p.size(),
                {.what = "x", .reads = "ints only", .opcodes = "\x80K."});
  EXPECT_NE(error_of([&] { few.run(); }).find("opcode 0x8a at byte 2"), std::string::npos);
}

TEST(Pickle, LargeCountsStayBoundedByTheInput) {
  // 30000 memo GETs of one list: a deep stack, but one entry per two bytes, then a clean error.
  std::string p = "]q\x00"s;
  for (int k = 0; k < 30000; ++k) p += std::string("h\x00", 2);
  p += ".";
  Unpickler u(reinterpret_cast<const std::uint8_t*>(p.data()), p.size(), {.what = "deep"});
  EXPECT_NE(error_of([&] { u.run(); }).find("malformed pickle at STOP"), std::string::npos);
  EXPECT_LE(u.values().size(), p.size());
}

// 10 M EMPTY_LIST opcodes (10 MB, a few kilobytes deflated): the stack limit stops the reader
// after kDefaultPickleMaxStack values instead of 10 M (gigabytes of values before STOP).
TEST(Pickle, AmplificationStopsAtTheStackLimit) {
  const std::string p(10'000'000, ']');
  Unpickler u(reinterpret_cast<const std::uint8_t*>(p.data()), p.size(), {.what = "bomb.pth"});
  const auto msg = error_of([&] { u.run(); });
  EXPECT_NE(msg.find("bomb.pth: pickle: more than 65536 values on the stack"), std::string::npos)
      << msg;
  EXPECT_LE(u.values().size(), kDefaultPickleMaxStack + 1);
  EXPECT_LE(u.pos(), kDefaultPickleMaxStack + 1);
  // MARKs alone are bounded the same way.
  const std::string marks(10'000'000, '(');
  Unpickler m(reinterpret_cast<const std::uint8_t*>(marks.data()), marks.size(), {.what = "m"});
  EXPECT_NE(error_of([&] { m.run(); }).find("more than 65536 nested MARKs"), std::string::npos);
  EXPECT_LE(m.pos(), kDefaultPickleMaxStack + 1);
  // A caller may allow a deeper stack.
  Unpickler lax(reinterpret_cast<const std::uint8_t*>(p.data()), 100000,
                {.what = "lax", .max_stack = 200000});
  EXPECT_NE(error_of([&] { lax.run(); }).find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace tutti::core
