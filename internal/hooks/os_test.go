package hooks

import (
	"slices"
	"testing"
)

// TestShellCommandPerOS pins how a hook's command line is started on each
// system: /bin/sh -c elsewhere, and on Windows cmd.exe (from %ComSpec%)
// with /d /s /c and the line handed over verbatim inside one pair of
// quotes, so quoted paths and cmd.exe operators arrive as written.
func TestShellCommandPerOS(t *testing.T) {
	const comspec = `C:\Windows\system32\cmd.exe`
	tests := []struct {
		name        string
		goos        string
		shell       string
		comspec     string
		line        string
		wantArgv    []string
		wantCmdLine string
	}{
		{"linux runs /bin/sh -c", "linux", "", comspec, "systemctl reload nginx",
			[]string{"/bin/sh", "-c", "systemctl reload nginx"}, ""},
		{"darwin runs /bin/sh -c", "darwin", "", "", "true",
			[]string{"/bin/sh", "-c", "true"}, ""},
		{"a configured shell replaces /bin/sh", "freebsd", "/usr/local/bin/bash", "", "true",
			[]string{"/usr/local/bin/bash", "-c", "true"}, ""},
		{"windows runs %ComSpec% /d /s /c with the line quoted once", "windows", "", comspec, "iisreset /restart",
			[]string{comspec, "/d", "/s", "/c", "iisreset /restart"}, comspec + ` /d /s /c "iisreset /restart"`},
		{"windows keeps the line's own quotes and operators", "windows", "", comspec, `"C:\Program Files\deploy.cmd" "%STRICTACME_CERT_NAME%" && echo ok`,
			[]string{comspec, "/d", "/s", "/c", `"C:\Program Files\deploy.cmd" "%STRICTACME_CERT_NAME%" && echo ok`},
			comspec + ` /d /s /c ""C:\Program Files\deploy.cmd" "%STRICTACME_CERT_NAME%" && echo ok"`},
		{"windows without ComSpec finds cmd.exe", "windows", "", "", "ver",
			[]string{"cmd.exe", "/d", "/s", "/c", "ver"}, `cmd.exe /d /s /c "ver"`},
		{"windows quotes an interpreter path with spaces", "windows", `C:\Program Files\TCC\tcc.exe`, comspec, "ver",
			[]string{`C:\Program Files\TCC\tcc.exe`, "/d", "/s", "/c", "ver"}, `"C:\Program Files\TCC\tcc.exe" /d /s /c "ver"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, cmdLine := ShellCommand(tt.goos, tt.shell, tt.comspec, tt.line)
			if !slices.Equal(argv, tt.wantArgv) {
				t.Errorf("argv = %q, want %q", argv, tt.wantArgv)
			}
			if cmdLine != tt.wantCmdLine {
				t.Errorf("command line = %s, want %s", cmdLine, tt.wantCmdLine)
			}
		})
	}
}

// TestHookEnvironmentPerOS pins which of strictacme's variables a hook
// gets on each system: on Windows also SystemRoot, ComSpec, PATHEXT and the
// profile folders, matched whatever their case (Windows spells PATH
// "Path"); elsewhere those are not passed, and names match exactly.
func TestHookEnvironmentPerOS(t *testing.T) {
	windowsEnv := []string{
		`=C:=C:\strictacme`, // cmd.exe's per-drive directory entry: not a variable to pass
		`Path=C:\Windows\system32;C:\Windows`,
		`SystemRoot=C:\Windows`,
		`ComSpec=C:\Windows\system32\cmd.exe`,
		`PATHEXT=.COM;.EXE;.BAT;.CMD`,
		`TEMP=C:\Users\ops\AppData\Local\Temp`,
		`USERPROFILE=C:\Users\ops`,
		`LOCALAPPDATA=C:\Users\ops\AppData\Local`,
		`ProgramFiles(x86)=C:\Program Files (x86)`,
		`NAMECHEAP_API_KEY=nc-key`,
		`Deploy_Target=web1`,
	}
	unixEnv := []string{
		"PATH=/usr/bin:/bin", "HOME=/root", "LC_ALL=C.UTF-8",
		`SystemRoot=C:\Windows`, "path=/tmp/evil", "NAMECHEAP_API_KEY=nc-key", "DEPLOY_TARGET=web1", "Deploy_Target=other",
	}
	tests := []struct {
		name    string
		goos    string
		environ []string
		pass    []string
		want    []string
	}{
		{"windows keeps the variables Windows programs need, any case", "windows", windowsEnv, []string{"DEPLOY_TARGET"}, []string{
			`Path=C:\Windows\system32;C:\Windows`,
			`SystemRoot=C:\Windows`,
			`ComSpec=C:\Windows\system32\cmd.exe`,
			`PATHEXT=.COM;.EXE;.BAT;.CMD`,
			`TEMP=C:\Users\ops\AppData\Local\Temp`,
			`USERPROFILE=C:\Users\ops`,
			`LOCALAPPDATA=C:\Users\ops\AppData\Local`,
			`ProgramFiles(x86)=C:\Program Files (x86)`,
			`Deploy_Target=web1`,
			"STRICTACME_HOOK=deploy",
		}},
		{"unix matches names exactly and passes no Windows variables", "linux", unixEnv, []string{"DEPLOY_TARGET"}, []string{
			"PATH=/usr/bin:/bin", "HOME=/root", "LC_ALL=C.UTF-8", "DEPLOY_TARGET=web1",
			"STRICTACME_HOOK=deploy",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := env(tt.goos, tt.environ, tt.pass, []string{"STRICTACME_HOOK=deploy"})
			if !slices.Equal(got, tt.want) {
				t.Errorf("environment\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
