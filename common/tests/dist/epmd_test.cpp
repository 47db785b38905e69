// The EPMD client (otp/dist/epmd.hpp) against a real epmd of the test's own.
#include "otp/dist/epmd.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "dist/beam.hpp"
#include "otp/otp.hpp"

namespace dist = otp::dist;

namespace {

dist::Epmd at(const dist_test::EpmdServer& server) {
  dist::Epmd e;
  e.port = server.port();
  return e;
}

}  // namespace

TEST(Epmd, RegistrationIsSeenAndGivesACreation) {
  dist_test::EpmdServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto reg = me.await(dist::register_node(at(server), "cpp", 40123));
  ASSERT_TRUE(reg.ok()) << reg.to_string();
  EXPECT_NE(reg.value().creation, 0U);
  EXPECT_NE(server.names().find("name cpp at port 40123"), std::string::npos) << server.names();
  auto where = me.await(dist::port_please(at(server), "cpp"));
  ASSERT_TRUE(where.ok()) << where.to_string();
  EXPECT_EQ(where.value().port, 40123);
  EXPECT_EQ(where.value().highest_version, 6);
  auto all = me.await(dist::names(at(server)));
  ASSERT_TRUE(all.ok()) << all.to_string();
  EXPECT_EQ(all.value(), (std::vector<dist::RegisteredName>{{"cpp", 40123}}));
}

TEST(Epmd, RegistrationEndsWithItsConnection) {
  dist_test::EpmdServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto reg = me.await(dist::register_node(at(server), "cpp", 40123));
  ASSERT_TRUE(reg.ok()) << reg.to_string();
  otp::net::close(reg.value().socket);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    auto where = me.await(dist::port_please(at(server), "cpp"));
    gone = !where.ok();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST(Epmd, TakenNameIsRefused) {
  dist_test::EpmdServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto first = me.await(dist::register_node(at(server), "cpp", 40123));
  ASSERT_TRUE(first.ok()) << first.to_string();
  auto second = me.await(dist::register_node(at(server), "cpp", 40124));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.reason().to_string().find("alive2"), std::string::npos)
      << second.reason().to_string();
}

TEST(Epmd, UnknownNameHasNoPort) {
  dist_test::EpmdServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto where = me.await(dist::port_please(at(server), "nobody"));
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.reason().to_string().find("not_registered"), std::string::npos);
}

// setenv and unsetenv on the test's thread, while no other thread reads the environment.
// NOLINTBEGIN(concurrency-mt-unsafe)
TEST(Epmd, PortComesFromErlEpmdPort) {
  ::setenv("ERL_EPMD_PORT", "4400", 1);
  EXPECT_EQ(dist::Epmd::from_environment().port, 4400);
  ::setenv("ERL_EPMD_PORT", "not a port", 1);
  EXPECT_EQ(dist::Epmd::from_environment().port, 4369);
  ::unsetenv("ERL_EPMD_PORT");
  EXPECT_EQ(dist::Epmd::from_environment().port, 4369);
}
// NOLINTEND(concurrency-mt-unsafe)
