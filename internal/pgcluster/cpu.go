package pgcluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
const clockTicks = 100

// CPUTime is the CPU time the running server has used so far: the
// postmaster's own, its live children's (backends, background workers) and
// that of the children it has reaped. Benchmarks read it before and after a
// load to charge the server's work per operation. Zero when the server is
// not running or /proc is not there.
func (c *Cluster) CPUTime() time.Duration {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	pm := c.cmd.Process.Pid
	f := procStat(pm)
	if f == nil {
		return 0
	}
	// Fields after the command: state(0) ppid(1) ... utime(11) stime(12)
	// cutime(13) cstime(14).
	ticks := statField(f, 11) + statField(f, 12) + statField(f, 13) + statField(f, 14)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		if g := procStat(pid); g != nil && statField(g, 1) == int64(pm) {
			ticks += statField(g, 11) + statField(g, 12)
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// procStat returns the fields of /proc/<pid>/stat after the command name.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 15 {
		return nil
	}
	return f
}

func statField(f []string, i int) int64 {
	n, _ := strconv.ParseInt(f[i], 10, 64)
	return n
}
