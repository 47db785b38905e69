// The frames after the handshake (otp/dist/detail/control.hpp) alone: decoding frames written
// byte by byte, the node's own answer to net_kernel's is_auth (what net_adm:ping asks), and
// frames that do not decode. Against a running BEAM: node_test.cpp (label dist).
#include "otp/dist/detail/control.hpp"

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "otp/dist/etf.hpp"
#include "term_support.hpp"

namespace {

using otp::Term;
namespace detail = otp::dist::detail;

using otp::dist::testing::bytes;
using otp::dist::testing::cat;

// SMALL_ATOM_UTF8_EXT
std::string atom_ext(std::string_view name) {
  return cat({bytes({119, static_cast<int>(name.size())}), name});
}

const std::string erl_node = atom_ext("erl@127.0.0.1");
// NEW_PID_EXT <erl@127.0.0.1.85.0>, creation 0x65432101.
const std::string caller_ext =
    cat({bytes({88}), erl_node, bytes({0, 0, 0, 85, 0, 0, 0, 0, 0x65, 0x43, 0x21, 0x01})});
// NEWER_REFERENCE_EXT with three ids.
const std::string ref_ext =
    cat({bytes({90, 0, 3}), erl_node,
         bytes({0x65, 0x43, 0x21, 0x01, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9})});

const otp::ExternalPid caller{"erl@127.0.0.1", 85, 0, 0x65432101};
const otp::ExternalRef ref{"erl@127.0.0.1", 0x65432101, {7, 8, 9}};
const otp::ExternalPid self{"cpp@127.0.0.1", 40, 0, 3};

Term atom(const char* name) { return Term::atom(name); }

// {6, Caller, '', ToName} then {'$gen_call', {Caller, Tag}, {is_auth, 'erl@127.0.0.1'}}.
std::string reg_send_is_auth(std::string_view to_name, const Term& tag) {
  return detail::encode_frame(Term::tuple({6, Term::pid(caller), atom(""), Term::atom(to_name)}),
                              Term::tuple({atom("$gen_call"), Term::tuple({Term::pid(caller), tag}),
                                           Term::tuple({atom("is_auth"), atom("erl@127.0.0.1")})}));
}

}  // namespace

TEST(DistControl, IsAuthWithAnAliasTagIsAnsweredThroughTheAlias) {
  // What an OTP 25 node's net_adm:ping sends: the Tag is [alias | Mref].
  const std::string frame = cat({
      bytes({112, 131, 104, 4, 97, 6}),
      caller_ext,
      atom_ext(""),
      atom_ext("net_kernel"),
      bytes({131, 104, 3}),
      atom_ext("$gen_call"),
      bytes({104, 2}),
      caller_ext,
      bytes({108, 0, 0, 0, 1}),
      atom_ext("alias"),
      ref_ext,
      bytes({104, 2}),
      atom_ext("is_auth"),
      erl_node,
  });
  auto in = detail::decode_frame(frame);
  ASSERT_TRUE(in.ok()) << in.reason().to_string();
  EXPECT_EQ(in.value().operation(), detail::op::reg_send);
  ASSERT_TRUE(in.value().message.has_value());
  const Term tag = Term::list({atom("alias")}, Term::reference(ref));
  EXPECT_EQ(*in.value().message,
            Term::tuple({atom("$gen_call"), Term::tuple({Term::pid(caller), tag}),
                         Term::tuple({atom("is_auth"), atom("erl@127.0.0.1")})}));

  auto reply = detail::answer(in.value(), self);
  ASSERT_TRUE(reply.has_value());
  // ALIAS_SEND: 112, then 131 {33, Self, Alias}.
  EXPECT_EQ(reply->substr(0, 6), bytes({112, 131, 104, 3, 97, 33}));
  auto out = detail::decode_frame(*reply);
  ASSERT_TRUE(out.ok()) << out.reason().to_string();
  EXPECT_EQ(out.value().control,
            Term::tuple({detail::op::alias_send, Term::pid(self), Term::reference(ref)}));
  ASSERT_TRUE(out.value().message.has_value());
  EXPECT_EQ(*out.value().message, Term::tuple({tag, atom("yes")}));
  // The alias is the reference as it came, byte for byte.
  EXPECT_NE(reply->find(ref_ext), std::string::npos);
}

TEST(DistControl, IsAuthWithAMultiCallAliasTagIsAnsweredThroughTheAlias) {
  const Term tag =
      Term::list({Term::list({atom("alias")}, Term::reference(ref)), atom("multicall")});
  auto in = detail::decode_frame(reg_send_is_auth("net_kernel", tag));
  ASSERT_TRUE(in.ok()) << in.reason().to_string();
  auto reply = detail::answer(in.value(), self);
  ASSERT_TRUE(reply.has_value());
  auto out = detail::decode_frame(*reply);
  ASSERT_TRUE(out.ok()) << out.reason().to_string();
  EXPECT_EQ(out.value().control,
            Term::tuple({detail::op::alias_send, Term::pid(self), Term::reference(ref)}));
  EXPECT_EQ(*out.value().message, Term::tuple({tag, atom("yes")}));
}

TEST(DistControl, IsAuthWithAPlainTagIsAnsweredToTheCaller) {
  const Term tag = Term::reference(ref);  // before OTP 24: a monitor reference
  auto in = detail::decode_frame(reg_send_is_auth("net_kernel", tag));
  ASSERT_TRUE(in.ok()) << in.reason().to_string();
  auto reply = detail::answer(in.value(), self);
  ASSERT_TRUE(reply.has_value());
  auto out = detail::decode_frame(*reply);
  ASSERT_TRUE(out.ok()) << out.reason().to_string();
  EXPECT_EQ(out.value().control, Term::tuple({detail::op::send, atom(""), Term::pid(caller)}));
  EXPECT_EQ(*out.value().message, Term::tuple({tag, atom("yes")}));
}

TEST(DistControl, OtherFramesAreNotAnswered) {
  const Term tag = Term::list({atom("alias")}, Term::reference(ref));
  // is_auth to another name.
  auto global = detail::decode_frame(reg_send_is_auth("global_name_server", tag));
  ASSERT_TRUE(global.ok());
  EXPECT_FALSE(detail::answer(global.value(), self).has_value());
  // Another request to net_kernel.
  auto other = detail::decode_frame(detail::encode_frame(
      Term::tuple({6, Term::pid(caller), atom(""), atom("net_kernel")}),
      Term::tuple({atom("$gen_call"), Term::tuple({Term::pid(caller), tag}), atom("ping")})));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(detail::answer(other.value(), self).has_value());
  // A MONITOR_P (what gen:call sends before its request): no message follows it.
  auto monitor = detail::decode_frame(detail::encode_frame(
      Term::tuple({19, Term::pid(caller), atom("net_kernel"), Term::reference(ref)})));
  ASSERT_TRUE(monitor.ok()) << monitor.reason().to_string();
  EXPECT_FALSE(monitor.value().message.has_value());
  EXPECT_FALSE(detail::answer(monitor.value(), self).has_value());
}

TEST(DistControl, AnUnknownOperationMayCarryAMessage) {
  auto bare = detail::decode_frame(detail::encode_frame(Term::tuple({99, atom("x")})));
  ASSERT_TRUE(bare.ok()) << bare.reason().to_string();
  EXPECT_FALSE(bare.value().message.has_value());
  auto with = detail::decode_frame(detail::encode_frame(Term::tuple({99}), atom("payload")));
  ASSERT_TRUE(with.ok()) << with.reason().to_string();
  EXPECT_EQ(with.value().message, atom("payload"));
}

TEST(DistControl, MalformedFramesAreErrors) {
  const std::string reg_send_control =
      otp::etf::encode(Term::tuple({6, Term::pid(caller), atom(""), atom("net_kernel")}));
  const std::string message = otp::etf::encode(atom("hello"));
  struct Case {
    const char* what;
    std::string frame;
    const char* error;
  };
  const Case cases[] = {
      {"empty", "", "bad_frame"},
      {"a distribution header", bytes({131, 68, 0}), "bad_frame"},
      {"no control message", bytes({112}), "bad_etf"},
      {"no version byte", cat({bytes({112}), reg_send_control.substr(1), message}), "bad_etf"},
      {"a truncated control", cat({bytes({112}), reg_send_control.substr(0, 8)}), "bad_etf"},
      {"a REG_SEND without message", cat({bytes({112}), reg_send_control}), "bad_etf"},
      {"bytes after the message", cat({bytes({112}), reg_send_control, message, "x"}), "bad_frame"},
      {"a message after a LINK",
       cat({bytes({112}), otp::etf::encode(Term::tuple({1, Term::pid(caller), Term::pid(caller)})),
            message}),
       "bad_frame"},
      {"a control that is not a tuple", cat({bytes({112}), message}), "bad_frame"},
      {"a tuple not starting with an integer",
       cat({bytes({112}), otp::etf::encode(Term::tuple({atom("send")}))}), "bad_frame"},
  };
  for (const Case& c : cases) {
    auto r = detail::decode_frame(c.frame);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.reason().to_string().find(c.error), std::string::npos)
        << c.what << ": " << r.reason().to_string();
  }
}
