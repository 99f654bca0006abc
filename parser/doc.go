// Package parser reads haproxy.cfg files: it tokenizes lines the way HAProxy
// 2.6 does (quotes, escapes, comments, environment variables, conditional
// blocks), builds a line-shaped AST with participle, and turns that AST into a
// typed Config through keyword tables, reporting Diagnostics with file:line
// positions and HAProxy's own wording.
package parser
