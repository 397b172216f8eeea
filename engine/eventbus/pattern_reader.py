"""A streaming JSON reader that behaves like Jackson's ``ReaderBasedJsonParser`` as far as
EventBridge patterns need it: the same tokens in the same order, the same problems reported
first, and Jackson's location text (``line: L, column: C``) in the messages, so that pattern
errors read exactly as AWS's. Pure, no I/O.
"""
from __future__ import annotations

SOURCE_SNIPPET = 500  # Jackson quotes at most this many characters of the source
MAX_NESTING = 1000  # Jackson's StreamReadConstraints default
VALID_TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

# Token kinds (Jackson's JsonToken)
START_OBJECT, END_OBJECT, START_ARRAY, END_ARRAY, FIELD_NAME = "{", "}", "[", "]", "name"
STRING, INT, FLOAT, TRUE, FALSE, NULL = "string", "int", "float", "true", "false", "null"
NUMERIC = (INT, FLOAT)


class Barf(Exception):
    """JsonParseException: the reason with Jackson's location appended."""


class IllegalArgument(Exception):
    """IllegalArgumentException: a reason without a location."""


# ---------------------------------------------------------------------------------------------
# A Jackson-like streaming reader
# ---------------------------------------------------------------------------------------------

def char_desc(char: str) -> str:
    code = ord(char)
    if code < 32 or 127 <= code < 160:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{char}' (code {code} / 0x{code:x})"
    return f"'{char}' (code {code})"


def identifier_part(char: str) -> bool:
    return char.isalnum() or char in "_$"


class Reader:
    """Jackson's ``ReaderBasedJsonParser``, as far as event patterns need it."""

    def __init__(self, text: str):
        self.src, self.pos = text, 0
        self.stack: list[list] = []  # [kind, entries so far, start offset]
        self.kind: str | None = None
        self.name: str | None = None
        self._text: str | None = None
        self._pending: tuple[str, str | None] | None = None
        self._incomplete = False  # the current string value has not been read yet

    # -- locations and errors
    def location(self) -> str:
        line = self.src.count("\n", 0, self.pos) + 1
        column = self.pos - (self.src.rfind("\n", 0, self.pos) + 1) + 1
        return f"\n at [Source: {self._source()}; line: {line}, column: {column}]"

    def _source(self) -> str:
        if len(self.src) <= SOURCE_SNIPPET:
            return f'(String)"{self.src}"'
        return f'(String)"{self.src[:SOURCE_SNIPPET]}"[truncated {len(self.src) - SOURCE_SNIPPET} chars]'

    def barf(self, reason: str) -> None:
        raise Barf(reason + self.location())

    def _unexpected(self, char: str, comment: str) -> None:
        raise Barf(f"Unexpected character ({char_desc(char)}): {comment}" + self.location())

    def _invalid_token(self, start: int) -> None:
        self.pos = start
        while self.pos < len(self.src) and self.pos - start < 256 and identifier_part(self.src[self.pos]):
            self.pos += 1
        token = self.src[start:self.pos] or self.src[start:start + 1]
        raise Barf(f"Unrecognized token '{token}': was expecting {VALID_TOKENS}" + self.location())

    def _end_of_input(self) -> None:
        if self.stack:
            kind, _, start = self.stack[-1]
            where = Reader(self.src)
            where.pos = start
            marker = "OBJECT" if kind == START_OBJECT else "ARRAY"
            raise Barf(f"Unexpected end-of-input: expected close marker for {marker} (start marker at "
                        f"{where.location()[5:]})" + self.location())
        raise Barf("Unexpected end-of-input" + self.location())

    # -- tokens
    def _skip_ws(self) -> str:
        src, pos = self.src, self.pos
        while pos < len(src) and src[pos] in " \t\r\n":
            pos += 1
        self.pos = pos
        return src[pos] if pos < len(src) else ""

    def next_token(self) -> str | None:
        if self._pending is not None:
            (self.kind, self._text), self._pending = self._pending, None
            return self.kind
        if self._incomplete:
            self._read_string()
        self._text = None
        char = self._skip_ws()
        if not self.stack:
            if not char:
                self.kind = None
                return None
            self.kind, self._text = self._value(char)
            return self.kind
        context = self.stack[-1]
        if not char:
            self._end_of_input()
        if char in "]}":
            if (char == "]") != (context[0] == START_ARRAY):
                expected = "]" if context[0] == START_ARRAY else "}"
                self.barf(f"Unexpected close marker '{char}': expected '{expected}'")
            self.pos += 1
            self.stack.pop()
            self.kind = END_ARRAY if char == "]" else END_OBJECT
            return self.kind
        if context[1]:
            if char != ",":
                entries = "Array" if context[0] == START_ARRAY else "Object"
                self._unexpected(char, f"was expecting comma to separate {entries} entries")
            self.pos += 1
            char = self._skip_ws()
            if not char:
                self._end_of_input()
        context[1] += 1
        if context[0] == START_ARRAY:
            self.kind, self._text = self._value(char)
            return self.kind
        if char != '"':
            self._unexpected(char, "was expecting double-quote to start field name")
        self.pos += 1
        self.name = self._read_string()
        if self._skip_ws() != ":":
            if self.pos >= len(self.src):
                self._end_of_input()
            self._unexpected(self.src[self.pos], "was expecting a colon to separate field name and value")
        self.pos += 1
        char = self._skip_ws()
        if not char:
            self._end_of_input()
        self._pending = self._value(char)
        self.kind, self._text = FIELD_NAME, self.name
        return self.kind

    def _value(self, char: str) -> tuple[str, str | None]:
        start = self.pos
        if char == '"':
            self.pos += 1
            self._incomplete = True
            return STRING, None
        if char in "[{":
            self.pos += 1
            if len(self.stack) >= MAX_NESTING:
                self.barf(f"Document nesting depth ({len(self.stack) + 1}) exceeds the maximum allowed "
                          f"({MAX_NESTING}, from `StreamReadConstraints.getMaxNestingDepth()`)")
            self.stack.append([char, 0, start])
            return char, char
        if char in "tfn":
            for word, kind in (("true", TRUE), ("false", FALSE), ("null", NULL)):
                if char == word[0]:
                    end = start + len(word)
                    if self.src[start:end] == word and not (end < len(self.src) and identifier_part(self.src[end])):
                        self.pos = end
                        return kind, word
                    self._invalid_token(start)
        if char == "-" or "0" <= char <= "9":
            return self._number()
        if char in "]}":
            self._unexpected(char, "expected a value")
        if char.isalpha() or char in "_$":
            self._invalid_token(start)
        self._unexpected(char, f"expected a valid value {VALID_TOKENS}")
        raise AssertionError("unreachable")

    def _number(self) -> tuple[str, str]:
        src, start = self.src, self.pos
        pos = start + (src[start] == "-")

        def digits(at: int) -> int:
            while at < len(src) and "0" <= src[at] <= "9":
                at += 1
            return at

        end = digits(pos)
        if end == pos:
            self.pos = pos
            if pos >= len(src):
                self._end_of_input()
            self._unexpected_in_number(src[pos], "expected digit (0-9) to follow minus sign, for valid numeric value")
        if src[pos] == "0" and end - pos > 1:
            self.pos = pos + 1
            self.barf("Invalid numeric value: Leading zeroes not allowed")
        kind = INT
        if end < len(src) and src[end] == ".":
            after = digits(end + 1)
            if after == end + 1:
                self.pos = end + 1
                self._unexpected_in_number(src[after] if after < len(src) else " ",
                                           "Decimal point not followed by a digit")
            end, kind = after, FLOAT
        if end < len(src) and src[end] in "eE":
            mark = end + 1 + (end + 1 < len(src) and src[end + 1] in "+-")
            after = digits(mark)
            if after == mark:
                self.pos = mark
                self._unexpected_in_number(src[mark] if mark < len(src) else " ",
                                           "Exponent indicator not followed by a digit")
            end, kind = after, FLOAT
        self.pos = end
        return kind, src[start:end]

    def _unexpected_in_number(self, char: str, comment: str) -> None:
        raise Barf(f"Unexpected character ({char_desc(char)}) in numeric value: {comment}" + self.location())

    _ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

    def _read_string(self) -> str:
        """Read a string whose opening quote is consumed; leaves ``pos`` after the closing quote."""
        self._incomplete = False
        src, pos, parts = self.src, self.pos, []
        while True:
            end = pos
            while end < len(src) and src[end] not in '"\\' and src[end] >= " ":
                end += 1
            parts.append(src[pos:end])
            if end >= len(src):
                self.pos = end
                self.barf("Unexpected end-of-input: was expecting closing quote for a string value")
            char = src[end]
            if char == '"':
                self.pos = end + 1
                return "".join(parts)
            if char < " ":
                self.pos = end + 1
                self.barf(f"Illegal unquoted character ({char_desc(char)}): has to be escaped using "
                          "backslash to be included in string value")
            escape = src[end + 1:end + 2]
            if escape == "u":
                hex_digits = src[end + 2:end + 6]
                if len(hex_digits) < 4 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
                    self.pos = end + 2
                    self.barf("Unexpected character in Unicode escape: expected a hex-digit for character escape sequence")
                parts.append(chr(int(hex_digits, 16)))
                pos = end + 6
            elif escape in self._ESCAPES:
                parts.append(self._ESCAPES[escape])
                pos = end + 2
            else:
                self.pos = end + 2
                if not escape:
                    self.barf("Unexpected end-of-input in character escape sequence")
                self.barf(f"Unrecognized character escape {char_desc(escape)}")

    def text(self) -> str:
        """getText(): a pending string value is read now (which moves the position)."""
        if self.kind == STRING and self._incomplete:
            raw = self._read_string()
            self._text = raw.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if has_surrogates(raw) else raw
        return self._text if self._text is not None else ""


def has_surrogates(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)
