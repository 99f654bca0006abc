// Package parser reads haproxy.cfg files: it tokenizes lines the way HAProxy
// 2.6 does (quotes, escapes, comments, environment variables, conditional
// blocks), builds a line-shaped AST with participle, and turns that AST into a
// typed Config through keyword tables, reporting Diagnostics with file:line
// positions and HAProxy's own wording.
//
// # The path of a keyword
//
// A keyword lives in three places:
//
//  1. Its table entry and handler: globalKeywords (keywords.go),
//     proxyKeywords (proxykw.go), optionSupport (support.go) or
//     runtimeServerOptions (serverkw.go). The entry gives the sections
//     (caps, noDefaults) and the Support level; the handler checks the
//     line with HAProxy's messages and fills a typed field of Global,
//     Proxy or Server, once. A handler may lower or raise the level of
//     one form of its keyword (setSupport).
//  2. The typed field in model.go. Proxy.inherit copies what HAProxy's
//     proxy_defproxy_cpy copies from the one defaults section a proxy
//     uses: the last one before it, or the one "from" names.
//  3. The runtime: runtime.Check for what needs the whole configuration
//     (references, tracks, addresses), runtime.Compile for the graph,
//     which reads only the typed fields. Compile refuses every directive
//     whose Support is Unsupported, and whatever form of a supported
//     keyword it cannot run, with "'...' is not supported by the gohap
//     runtime yet."; check reports the same as notices.
//
// Worked example, "cookie SRV insert indirect" in a backend:
// proxyKeywords["cookie"] allows it where the proxy has the backend
// capability, and kwCookie reads its words into Proxy.Cookie (a Cookie:
// name, mode, options, with the options the runtime cannot run listed in
// Unsupported). A backend without a cookie line gets its defaults
// section's Cookie through inherit. runtime.compileCookie (cookie.go)
// turns Proxy.Cookie and each Server's Settings.Cookie into the lookup
// tables the engine uses on every request, and fails on Unsupported.
// Supported keywords must be used by a test: TestSupportedKeywordsAreTested
// walks the tables.
package parser
