// otp::testing::ChildProcess: the output, the exit status, a stop, a program that is not there.
#include "otp/testing/child_process.hpp"

#include <csignal>
#include <string>

#include <gtest/gtest.h>

namespace {

using otp::testing::ChildProcess;

TEST(ChildProcess, ItsOutputAndExitStatusAreRead) {
  ChildProcess child({"/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 3"});
  EXPECT_TRUE(child.wait_for_output("to-err"));
  EXPECT_EQ(child.stop(SIGTERM), 3);  // it had ended: its own status
  EXPECT_EQ(child.output(), "to-out\nto-err\n");
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, StopSendsTheSignalAndGivesItsStatus) {
  ChildProcess child({"sleep", "100"});  // found in PATH
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.stop(SIGTERM), 128 + SIGTERM);
  EXPECT_EQ(child.status(), 128 + SIGTERM);
}

TEST(ChildProcess, AProgramThatIsNotThereExitsWith127) {
  ChildProcess child({"/nonexistent/program"});
  EXPECT_FALSE(child.wait_for_output("never"));  // it ended first
  EXPECT_EQ(child.status(), 127);
}

TEST(ChildProcess, ItKeepsNoneOfTheTestsDescriptors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // without O_CLOEXEC
  {
    ChildProcess child({"sleep", "100"});
    ::close(fds[1]);
    char c;
    EXPECT_EQ(::read(fds[0], &c, 1), 0);  // end of file: the child holds no copy of the write end
  }
  ::close(fds[0]);
}

}  // namespace
