// Package acl will hold sample fetches, match methods and compiled ACL
// conditions (HAProxy configuration.txt section 7).
package acl
