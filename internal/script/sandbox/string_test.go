package sandbox

import (
	"strings"
	"testing"
)

// luaEval evaluates the Lua expression expr in a call and returns its
// values, converted with tostring and joined with "|".
func luaEval(t *testing.T, expr string) (string, error) {
	t.Helper()
	s, err := Compile("eval.lua", []byte(`
local function pack(...) return {n = select("#", ...), ...} end
function on_call_complete(call)
  local r = pack(`+expr+`)
  local out = {}
  for i = 1, r.n do out[i] = tostring(r[i]) end
  log.info(table.concat(out, "|"))
end`))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var tr traces
	cfg := testConfig()
	cfg.Trace = tr.add
	p, err := NewPool(s, cfg, testFunctions)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := onCall(t.Context(), p, testCall()); err != nil {
		return "", err
	}
	return strings.Join(tr.logs(), "\n"), nil
}

type evalCase struct {
	expr, want string
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		got, err := luaEval(t, c.expr)
		if strings.HasPrefix(c.want, "error: ") {
			want := strings.TrimPrefix(c.want, "error: ")
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %q, %v; want an error containing %q", c.expr, got, err, want)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.expr, got, err, c.want)
		}
	}
}

// TestPatterns checks the pattern functions against Lua 5.1's results.
func TestPatterns(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`string.find("hello world", "o w")`, "5|7"},
		{`string.find("hello", "l")`, "3|3"},
		{`string.find("hello", "xyz")`, "nil"},
		{`string.find("a.b", ".", 1, true)`, "2|2"},
		{`string.find("a+b", "+", 1, true)`, "2|2"},
		{`string.find("a+b", "a+b")`, "nil"},
		{`string.find("hello", "l+")`, "3|4"},
		{`string.find("hello", "(l)(l)")`, "3|4|l|l"},
		{`string.find("", "")`, "1|0"},
		{`string.find("abc", "", 10)`, "4|3"},
		{`string.find("abc", "b", -1)`, "nil"},
		{`string.find("abc", "b", -2)`, "2|2"},
		{`string.find("aaa", "a-", 2)`, "2|1"},
		{`string.find("THE (quick) fox", "%f[%a]%a+", 5)`, "6|10"},
		{`string.match("key=value", "(%w+)=(%w+)")`, "key|value"},
		{`string.match("  trim  ", "^%s*(.-)%s*$")`, "trim"},
		{`string.match("2024-03-01", "(%d+)-(%d+)-(%d+)")`, "2024|03|01"},
		{`string.match("hello", "()ll()")`, "3|5"},
		{`string.match("THE (quick) fox", "%((%a+)%)")`, "quick"},
		{`string.match("f(a(b)c)d", "%b()")`, "(a(b)c)"},
		{`string.match("]", "[%]]")`, "]"},
		{`string.match("a]b", "[]]")`, "]"},
		{`string.match("a-b", "[a%-]+")`, "a-"},
		{`string.match("hello", "^(h)(e)")`, "h|e"},
		{`string.match("xhello", "^h")`, "nil"},
		{`string.match("hello123", "%a+%d+$")`, "hello123"},
		{`string.match("$100", "%$(%d+)")`, "100"},
		{`string.match("abab", "(ab)%1")`, "ab"},
		{`string.match("hello world", "%s(.*)")`, "world"},
		{`string.match("x=1", "^(%w+)=?(%d*)$")`, "x|1"},
		{`string.match("Hello", "%u%l+")`, "Hello"},
		{`string.match("a\0b", "%z")`, "\x00"},
		{`string.match("tab\there", "%c")`, "\t"},
		{`string.match("0x1F", "0x(%x+)")`, "1F"},
		{`string.match("a,b;c", "[%p]")`, ","},
		{`string.match("abc", "[^a]+")`, "bc"},
		{`string.match("abc", ".-b")`, "ab"},
		{`string.match("abc", "a?b?c?d?")`, "abc"},
		{`string.match("a.b", "a.b", 2)`, "nil"},
		{`string.gsub("hello world", "o", "0")`, "hell0 w0rld|2"},
		{`string.gsub("hello world", "(%w+)", "<%1>")`, "<hello> <world>|2"},
		{`string.gsub("abc", "%w", "%0%0")`, "aabbcc|3"},
		{`string.gsub("abc", "", "-")`, "-a-b-c-|4"},
		{`string.gsub("hello world", "%w+", {hello = "HI"})`, "HI world|2"},
		{`string.gsub("abc", "%w", function(c) return c:upper() .. "." end)`, "A.B.C.|3"},
		{`string.gsub("abc", "b", "%%")`, "a%c|1"},
		{`string.gsub("hello", "l", "L", 1)`, "heLlo|1"},
		{`string.gsub("  x  ", "^%s+", "")`, "x  |1"},
		{`string.gsub("abc", ".", {a = false})`, "abc|3"},
		{`string.gsub("abc", "(b)", 5)`, "a5c|1"},
		{`string.gsub("a b", "()", "%1")`, "1a2 3b4|4"},
		{`string.gsub("abc", "x*", "-")`, "-a-b-c-|4"},
		{`(function() local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",") end)()`, "a1,b2"},
		{`(function() local t = {} for w in string.gmatch("one two  three", "%a+") do t[#t+1] = w end return table.concat(t, ",") end)()`, "one,two,three"},
		{`(function() local n = 0 for w in string.gmatch("abc", "") do n = n + 1 end return n end)()`, "4"},
		{`(function() local t = {} for p in string.gmatch("abc", "()") do t[#t+1] = p end return table.concat(t, ",") end)()`, "1,2,3,4"},
		{`(function() local t = {} for w in string.gmatch("^a^b", "^%a") do t[#t+1] = w end return table.concat(t, ",") end)()`, "^a,^b"},
		{`("x"):rep(3)`, "xxx"},
		{`string.find("abc", "[a")`, "error: malformed pattern (missing ']')"},
		{`string.find("abc", "%")`, "error: malformed pattern (ends with '%')"},
		{`string.find("abc", "(()")`, "error: unfinished capture"},
		{`string.match("abc", "a)")`, "error: invalid pattern capture"},
		{`string.find("abc", "%1")`, "error: invalid capture index"},
		{`string.find("abc", "%f")`, "error: missing '[' after '%f' in pattern"},
		{`string.find("abc", "%b")`, "error: unbalanced pattern"},
		{`string.gsub("abc", ".", {a = true})`, "error: invalid replacement value (a boolean)"},
		{`string.gsub("abc", ".", function() return {} end)`, "error: invalid replacement value (a table)"},
		{`string.gsub("abc", ".", true)`, "error: string/function/table expected"},
	})
}

func TestStringFunctions(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`string.format("%d", 3.7)`, "3"},
		{`string.format("%5.2f|", 3.14159)`, " 3.14|"},
		{`string.format("%-5s|", "ab")`, "ab   |"},
		{`string.format("%5.1s|", "abc")`, "    a|"},
		{`string.format("%x %X %o %#x", 255, 255, 8, 255)`, "ff FF 10 0xff"},
		{`string.format("%e", 12345.678)`, "1.234568e+04"},
		{`string.format("%g %g %g %g", 0.1, 1e20, 100000, 1234567)`, "0.1 1e+20 100000 1.23457e+06"},
		{`string.format("%.3g", 2/3)`, "0.667"},
		{`string.format("%q", 'a "b"\n\0\r\\')`, "\"a \\\"b\\\"\\\n\\000\\r\\\\\""},
		{`string.format("%c%c", 72, 105)`, "Hi"},
		{`string.format("%%|%5d|%05d|%+d|% d", 42, 42, 5, 5)`, "%|   42|00042|+5| 5"},
		{`string.format("%.3f", 2/3)`, "0.667"},
		{`string.format("%u", -1)`, "18446744073709551615"},
		{`string.format("%i", -7)`, "-7"},
		{`string.format("%s %s", 12, 1.5)`, "12 1.5"},
		{`string.format("%s", setmetatable({}, {__tostring = function() return "T" end}))`, "T"},
		{`string.format("%f %f %e", 1/0, -1/0, 0/0)`, "inf -inf nan"},
		{`string.format("%5s|%-5s|", "toolong", "x")`, "toolong|x    |"},
		{`string.format("%s %s", 1)`, "error: bad argument #3"},
		{`string.format("%y", 1)`, "error: invalid option '%y' to 'format'"},
		{`string.format("%100d", 1)`, "error: invalid format (width or precision too long)"},
		{`string.format("%.100f", 1)`, "error: invalid format (width or precision too long)"},
		{`string.format("%------d", 1)`, "error: invalid format (repeated flags)"},
		{`string.format("%", 1)`, "error: invalid option"},
		{`string.format("%d", {})`, "error: bad argument #2"},
		{`string.rep("ab", 3)`, "ababab"},
		{`string.rep("ab", 0)`, ""},
		{`string.rep("ab", -1)`, ""},
		{`string.rep("", 1e9)`, ""},
		{`string.rep("x", 2.9)`, "xx"},
		{`string.upper("abc-Ä")`, "ABC-Ä"},
		{`string.lower("ABC-Ä")`, "abc-Ä"},
		{`string.reverse("abc")`, "cba"},
		{`string.byte("ABC")`, "65"},
		{`string.byte("ABC", 2, 3)`, "66|67"},
		{`string.byte("ABC", -1)`, "67"},
		{`string.byte("ABC", 10)`, ""},
		{`string.char(72, 105)`, "Hi"},
		{`string.char(256)`, "error: invalid value"},
		{`string.sub("hello", 2, 4)`, "ell"},
		{`string.sub("hello", -3)`, "llo"},
		{`string.sub("hello", 0)`, "hello"},
		{`string.sub("hello", 4, 2)`, ""},
		{`string.len("héllo")`, "6"},
		{`("abc"):upper()`, "ABC"},
		{`#string.rep("x", 1000)`, "1000"},
		{`table.concat({1, "b", 3}, ", ")`, "1, b, 3"},
		{`table.concat({1, 2, 3}, "-", 2, 3)`, "2-3"},
		{`table.concat({}, "x")`, ""},
		{`table.concat({1, {}, 3})`, "error: invalid value (at index 2) in table for 'concat'"},
		{`(function() local t = {3, 1, 2} table.sort(t) return table.concat(t, ",") end)()`, "1,2,3"},
		{`(function() local t = {"b", "c", "a"} table.sort(t, function(a, b) return a > b end) return table.concat(t, ",") end)()`, "c,b,a"},
		{`(function() local t = {1, "x"} table.sort(t) end)()`, "error: attempt to compare"},
		{`(function() local t = {1, 2} table.insert(t, 3) table.insert(t, 1, 0) return table.concat(t, ",") end)()`, "0,1,2,3"},
		{`(function() local t = {} table.insert(t, 5, "x") return t[5], #t end)()`, "x|5"},
		{`(function() local t = {} table.insert(t, nil) return #t end)()`, "0"},
		{`table.insert({})`, "error: wrong number of arguments to 'insert'"},
		{`(function() local t = {1, 2, 3} return table.remove(t), #t end)()`, "3|2"},
		{`unpack({1, 2, 3})`, "1|2|3"},
		{`unpack({1, 2, 3}, 2)`, "2|3"},
		{`unpack({1, 2, 3}, 3, 2)`, ""},
		{`select("#", unpack({}, 1, 3))`, "3"},
		{`(function() local t = {} rawset(t, 1, "a") return t[1] end)()`, "a"},
		{`rawset({}, nil, 1)`, "error: table index is nil"},
		{`rawset({}, 0/0, 1)`, "error: table index is NaN"},
		{`assert(1, "x")`, "1|x"},
		{`assert(false)`, "error: assertion failed!"},
		{`assert(nil, "custom")`, "error: custom"},
		{`pcall(error, "m", 0)`, "false|m"},
		{`select(2, pcall(error, "m"))`, "eval.lua:4: m"},
		{`type(select(2, pcall(error, {})))`, "table"},
		{`math.floor(math.random() * 0)`, "0"},
		{`(function() for i = 1, 100 do local r = math.random(3) assert(r >= 1 and r <= 3) end return "ok" end)()`, "ok"},
		{`(function() for i = 1, 100 do local r = math.random(-2, 2) assert(r >= -2 and r <= 2 and r % 1 == 0) end return "ok" end)()`, "ok"},
		{`math.random(0)`, "error: interval is empty"},
		{`math.random(3, 1)`, "error: interval is empty"},
		{`math.randomseed(42)`, ""},
		{`type(os.time()), type(os.clock()), os.date("!%Y-%m-%d", 0)`, "number|number|1970-01-01"},
		{`tostring(12), tostring(nil), tostring(true)`, "12|nil|true"},
		{`tonumber("0x10"), tonumber("  12  "), tonumber("z", 36), tonumber("x")`, "16|12|35|nil"},
	})
}
