// Package backend will hold servers, balance algorithms, health checks and
// queues (HAProxy configuration.txt section 4, "balance" and "server").
package backend
