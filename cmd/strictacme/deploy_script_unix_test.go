//go:build unix

package main

import (
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdUserGroup sets VAR to the name of a group files can be given to
// other than the one they get anyway: for root a system group, else a
// supplementary group of the user, else (no choice) the primary group.
func cmdUserGroup(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: usergroup VAR")
	}
	ts.Setenv(args[0], otherGroupName())
}

func otherGroupName() string {
	if os.Geteuid() == 0 {
		for _, n := range []string{"nogroup", "daemon", "users", "adm"} {
			if _, err := user.LookupGroup(n); err == nil {
				return n
			}
		}
	}
	gid := os.Getgid()
	if groups, err := os.Getgroups(); err == nil {
		for _, g := range groups {
			if g != gid {
				gid = g
				break
			}
		}
	}
	name := strconv.Itoa(gid)
	if g, err := user.LookupGroupId(name); err == nil {
		name = g.Name
	}
	return name
}

// cmdFileMode: filemode PATH MODE [GROUP] requires PATH to have the octal
// MODE and, when given, the group named GROUP.
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: filemode PATH MODE [GROUP]")
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	ok := uint64(info.Mode().Perm()) == want
	group := ""
	if len(args) == 3 {
		gid := strconv.Itoa(int(info.Sys().(*syscall.Stat_t).Gid))
		group = gid
		if g, err := user.LookupGroupId(gid); err == nil {
			group = g.Name
		}
		ok = ok && group == args[2]
	}
	if ok == neg {
		ts.Fatalf("%s: mode %04o group %q; want mode %s group %q", args[0], info.Mode().Perm(), group, args[1], args[2:])
	}
}
