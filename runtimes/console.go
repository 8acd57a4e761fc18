package runtimes

import (
	"strings"
	"sync"
)

// consoleLimit caps what one invocation's console output keeps.
const consoleLimit = 16 << 10

// Console collects a function's console output, up to consoleLimit bytes.
type Console struct {
	mu        sync.Mutex
	b         strings.Builder
	truncated bool
}

// Println appends one line.
func (c *Console) Println(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.truncated {
		return
	}
	if c.b.Len()+len(line)+1 > consoleLimit {
		c.b.WriteString("[console output truncated]\n")
		c.truncated = true
		return
	}
	c.b.WriteString(line)
	c.b.WriteByte('\n')
}

// String returns the collected output.
func (c *Console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}
