//! LaTeX in arXiv titles and abstracts, turned into plain Unicode text.
//!
//! arXiv metadata is written by authors in LaTeX and served as is: `$\sim$0.07''`,
//! `$O(n^{1/2})$`, `\emph{full-rankness}`, `Erd\H{o}s`, `\cite{x}`. A one-line summary shown in
//! Discord must read as text, so [`to_text`] renders what really occurs in abstracts (math
//! shifts, Greek, operators, sub- and superscripts, accents, style commands, escapes, quotes)
//! and drops what only makes sense in a typeset paper (citations, labels, environments).
//!
//! It is a single pass over the characters with a small recursive reader for macro arguments
//! (depth-capped, so no input can exhaust the stack). It is total: any string gives a string,
//! and the output never contains `$` or `\`, so nothing that looks like LaTeX survives. An
//! escaped dollar `\$5` therefore renders as `USD 5`.
//!
//! Text without LaTeX comes out unchanged apart from whitespace, which is always collapsed to
//! single spaces and trimmed: `^`, `_`, `%` and `--` are literal outside math, `~` is a space
//! except right after `/` (a home-page URL), and apostrophes stay apostrophes.

/// Nesting depth of groups and arguments beyond which braces are ignored (keeps recursion
/// bounded on adversarial input; real abstracts nest three or four deep).
const MAX_DEPTH: usize = 24;

mod tables;

use tables::{
    COMPOSED, double_struck, is_declaration, is_dropped, is_function, is_math_style, is_space,
    is_text_style, letter, math_accent, subscript, superscript, symbol, text_accent,
    text_letter_accent,
};

/// `s` (LaTeX as found in arXiv metadata) as plain text: see the module documentation.
pub fn to_text(s: &str) -> String {
    if needs_conversion(s) {
        convert(s)
    } else {
        finish(s)
    }
}

/// The converter proper (what [`to_text`] skips when nothing needs converting).
fn convert(s: &str) -> String {
    let mut c = Converter {
        s: s.chars().collect(),
        i: 0,
        out: String::with_capacity(s.len()),
        math: false,
        depth: 0,
        dropped: false,
        open_single: false,
        open_double: false,
    };
    c.sequence(false);
    finish(&c.out)
}

/// Whether `s` holds anything the converter would change beyond whitespace: a special
/// character, `''`, or a `'` after a digit. Most abstracts have none and skip the converter.
fn needs_conversion(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| match c {
        b'\\' | b'$' | b'{' | b'}' | b'~' | b'`' => true,
        b'\'' => i > 0 && (b[i - 1] == b'\'' || b[i - 1].is_ascii_digit()),
        _ => false,
    })
}

/// Collapses whitespace runs to one space, trims, and removes any `$` or `\` (there should be
/// none; this makes the invariant hold whatever the converter missed).
fn finish(out: &str) -> String {
    let mut res = String::with_capacity(out.len());
    let mut space = false;
    for c in out.chars() {
        if c.is_whitespace() {
            space = !res.is_empty();
        } else if c != '$' && c != '\\' {
            if space {
                res.push(' ');
                space = false;
            }
            res.push(c);
        }
    }
    res
}

struct Converter {
    s: Vec<char>,
    i: usize,
    /// Output so far (of the current argument while one is being read).
    out: String,
    /// Inside `$…$`, `$$…$$`, `\(…\)` or `\[…\]`.
    math: bool,
    depth: usize,
    /// Something (a citation, a label) was just dropped: the next character decides the
    /// spacing, so no double space or space before punctuation is left behind.
    dropped: bool,
    /// A `` ` `` opened a single quote that a later `'` closes as ’.
    open_single: bool,
    /// A ``` `` ``` opened a double quote that a later `''` closes as ” (even after a digit).
    open_double: bool,
}

impl Converter {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn last_out(&self) -> Option<char> {
        self.out.chars().next_back()
    }

    /// Items until the end, or (in a group) until the closing brace, which is consumed.
    /// Unbalanced closing braces outside a group are dropped.
    fn sequence(&mut self, in_group: bool) {
        while let Some(c) = self.peek(0) {
            if c == '}' {
                self.i += 1;
                if in_group {
                    return;
                }
                continue;
            }
            self.item();
        }
    }

    /// One item: a character, a command with its arguments, a group or a math shift. Always
    /// consumes at least one character.
    fn item(&mut self) {
        let Some(c) = self.peek(0) else { return };
        match c {
            '\\' => self.command(),
            '{' => {
                self.i += 1;
                if self.depth < MAX_DEPTH {
                    self.depth += 1;
                    self.sequence(true);
                    self.depth -= 1;
                }
            }
            '}' => self.i += 1,
            '$' => {
                self.i += 1;
                if self.peek(0) == Some('$') {
                    self.i += 1;
                }
                self.math = !self.math;
            }
            '^' | '_' if self.math => {
                self.i += 1;
                let arg = self.arg();
                self.script(&arg, c == '^');
            }
            '~' => {
                self.i += 1;
                if !self.math && self.last_out() == Some('/') {
                    self.push('~');
                } else {
                    self.push(' ');
                }
            }
            '`' if !self.math => {
                self.i += 1;
                if self.peek(0) == Some('`') {
                    self.i += 1;
                    self.open_double = true;
                    self.push('“');
                } else {
                    self.open_single = true;
                    self.push('‘');
                }
            }
            '\'' => self.quote(),
            _ => {
                self.i += 1;
                self.push(c);
            }
        }
    }

    /// `'` and `''`: primes in math and after a digit (`0.07''` is 0.07″), a closing quote
    /// after a backquote (`` `x' `` and ``` ``x'' ```), otherwise an apostrophe.
    fn quote(&mut self) {
        self.i += 1;
        let double = self.peek(0) == Some('\'');
        if double {
            self.i += 1;
        }
        let after_digit = self.last_out().is_some_and(|c| c.is_ascii_digit());
        let next_letter = self.peek(0).is_some_and(char::is_alphanumeric);
        let c = if double && self.open_double && !self.math {
            self.open_double = false;
            '”'
        } else if self.math || (after_digit && (double || !next_letter)) {
            if double { '″' } else { '′' }
        } else if double {
            '”'
        } else if self.open_single && !next_letter {
            self.open_single = false;
            '’'
        } else {
            '\''
        };
        self.push(c);
    }

    /// Appends `c`, first settling the spacing left by a dropped command.
    fn push(&mut self, c: char) {
        if self.dropped && !c.is_whitespace() {
            self.dropped = false;
            if c == ')' || c == ']' {
                let open = if c == ')' { '(' } else { '[' };
                let trimmed = self
                    .out
                    .trim_end_matches(|x: char| x.is_whitespace() || x == ',' || x == ';');
                if trimmed.ends_with(open) {
                    // `(\cite{x})`: the parentheses held only the dropped citation.
                    let keep = trimmed.len() - open.len_utf8();
                    self.out.truncate(keep);
                    self.mark_dropped();
                    return;
                }
            } else if !matches!(c, '.' | ',' | ';' | ':' | '!' | '?')
                && self
                    .last_out()
                    .is_some_and(|x| !x.is_whitespace() && !matches!(x, '(' | '[' | '“' | '‘'))
            {
                self.out.push(' ');
            }
        }
        self.out.push(c);
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push(c);
        }
    }

    /// Records that something was dropped here: trailing spaces go, the next character
    /// decides whether one comes back.
    fn mark_dropped(&mut self) {
        let keep = self.out.trim_end().len();
        self.out.truncate(keep);
        self.dropped = true;
    }

    fn skip_spaces(&mut self) {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    /// One macro argument (a group, a command or a single character), rendered on its own.
    /// Math mode is restored afterwards, so an unbalanced `$` inside cannot leak out.
    fn arg(&mut self) -> String {
        self.skip_spaces();
        let Some(c) = self.peek(0) else {
            return String::new();
        };
        if c == '}' || c == '$' {
            // No argument: a group ends or the math does (`$x^$`).
            return String::new();
        }
        if self.depth >= MAX_DEPTH {
            self.i += 1;
            return if matches!(c, '\\' | '$' | '{') {
                String::new()
            } else {
                c.to_string()
            };
        }
        let saved_out = std::mem::take(&mut self.out);
        let saved_dropped = std::mem::replace(&mut self.dropped, false);
        let saved_math = self.math;
        self.depth += 1;
        if c == '{' {
            self.i += 1;
            self.sequence(true);
        } else {
            self.item();
        }
        self.depth -= 1;
        self.math = saved_math;
        self.dropped = saved_dropped;
        std::mem::replace(&mut self.out, saved_out)
    }

    /// An argument read in text mode (`\text{…}` inside math).
    fn text_arg(&mut self) -> String {
        let math = std::mem::replace(&mut self.math, false);
        let arg = self.arg();
        self.math = math;
        arg
    }

    /// An argument taken verbatim (URLs): no commands, `\x` is `x`, `$` is dropped.
    fn raw_arg(&mut self) -> String {
        self.skip_spaces();
        if self.peek(0) != Some('{') {
            return self.arg();
        }
        self.i += 1;
        let mut out = String::new();
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                '\\' => {
                    if let Some(n) = self.peek(0) {
                        if !matches!(n, '\\' | '$') {
                            out.push(n);
                        }
                        self.i += 1;
                    }
                }
                '$' => {}
                _ => out.push(c),
            }
        }
        out
    }

    /// Skips `[…]` optional arguments (of `\cite`, `\sqrt`); returns the last one's content.
    fn optional_args(&mut self) -> Option<String> {
        let mut last = None;
        loop {
            let save = self.i;
            self.skip_spaces();
            if self.peek(0) != Some('[') {
                self.i = save;
                return last;
            }
            self.i += 1;
            let start = self.i;
            while self.peek(0).is_some_and(|c| c != ']') {
                self.i += 1;
            }
            last = Some(self.s[start..self.i].iter().collect());
            if self.peek(0).is_some() {
                self.i += 1;
            }
        }
    }

    /// A `*` right after a command name (`\citet*`, `\operatorname*`) is part of it.
    fn skip_star(&mut self) {
        if self.peek(0) == Some('*') {
            self.i += 1;
        }
    }

    /// `^` or `_` with its rendered argument: Unicode super/subscripts when every character
    /// has one (`10⁻³`, `xᵢ`), else `^2`-style with parentheses unless the argument is one
    /// token (`n^(1/2)`, `x_(i,j)`, `p_q`).
    fn script(&mut self, arg: &str, sup: bool) {
        let arg = arg.trim();
        if arg.is_empty() {
            return;
        }
        let map = if sup { superscript } else { subscript };
        if let Some(mapped) = arg.chars().map(map).collect::<Option<String>>() {
            self.push_str(&mapped);
            return;
        }
        self.push(if sup { '^' } else { '_' });
        self.push_atomic(arg);
    }

    /// `s` as is when it reads as one token, else in parentheses.
    fn push_atomic(&mut self, s: &str) {
        let s = s.trim();
        if s.is_empty() || is_atomic(s) {
            self.push_str(s);
        } else {
            self.push('(');
            self.push_str(s);
            self.push(')');
        }
    }

    fn command(&mut self) {
        self.i += 1;
        let Some(c) = self.peek(0) else { return };
        if !c.is_ascii_alphabetic() {
            self.i += 1;
            self.control_symbol(c);
            return;
        }
        let start = self.i;
        while self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        let name: String = self.s[start..self.i].iter().collect();
        self.control_word(&name);
    }

    /// `\` followed by one non-letter.
    fn control_symbol(&mut self, c: char) {
        match c {
            '\\' => {
                self.skip_star();
                self.push(' ');
            }
            '$' => {
                self.push_str("USD");
                if self.peek(0).is_some_and(|n| !n.is_whitespace()) {
                    self.push(' ');
                }
            }
            ',' | ';' | ':' | '>' | ' ' | '\n' | '\t' | '\r' => self.push(' '),
            '!' | '/' | '-' | '@' => {}
            '(' | '[' => self.math = true,
            ')' | ']' => self.math = false,
            '|' => self.push('‖'),
            '\'' | '`' | '^' | '"' | '~' | '=' | '.' => {
                let Some(mark) = text_accent(c) else { return };
                let base = self.arg();
                self.push_str(&accented(&base, mark));
            }
            _ => self.push(c),
        }
    }

    fn control_word(&mut self, name: &str) {
        if let Some(sym) = symbol(name) {
            self.push_str(sym);
            return;
        }
        if let Some(letter) = letter(name) {
            // TeX swallows the space after a control word: `Gro\ss e` is Große.
            self.skip_spaces();
            self.push_str(letter);
            return;
        }
        if is_function(name) {
            if self.last_out().is_some_and(char::is_alphanumeric) {
                self.push(' ');
            }
            self.push_str(name);
            return;
        }
        if is_declaration(name) {
            if matches!(name, "left" | "right" | "middle")
                || name.starts_with("big")
                || name.starts_with("Big")
            {
                self.skip_spaces();
                if self.peek(0) == Some('.') {
                    self.i += 1;
                }
            }
            return;
        }
        if is_space(name) {
            self.push(' ');
            return;
        }
        if is_dropped(name) {
            self.skip_star();
            self.optional_args();
            self.raw_arg();
            self.mark_dropped();
            return;
        }
        if !self.math
            && let Some(mark) = text_letter_accent(name)
        {
            let base = self.arg();
            self.push_str(&accented(&base, mark));
            return;
        }
        if let Some(mark) = math_accent(name) {
            let base = self.arg();
            self.push_str(&accented(&base, mark));
            return;
        }
        match name {
            "begin" | "end" => {
                self.raw_arg();
                self.push(' ');
            }
            "url" => {
                let url = self.raw_arg();
                self.push_str(&url);
            }
            "href" => {
                let url = self.raw_arg();
                let text = self.text_arg();
                self.push_str(if text.trim().is_empty() { &url } else { &text });
            }
            "frac" | "dfrac" | "tfrac" | "cfrac" | "nicefrac" | "sfrac" => {
                let num = self.arg();
                let den = self.arg();
                self.push_atomic(&num);
                self.push('/');
                self.push_atomic(&den);
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.arg();
                let k = self.arg();
                self.push_str("C(");
                self.push_str(n.trim());
                self.push_str(", ");
                self.push_str(k.trim());
                self.push(')');
            }
            "sqrt" => {
                let root = match self.optional_args().as_deref().map(str::trim) {
                    None | Some("") | Some("2") => "√".to_string(),
                    Some("3") => "∛".to_string(),
                    Some("4") => "∜".to_string(),
                    // Raw: digits and letters only, so no recursion on nested brackets.
                    Some(n) => n.chars().filter_map(superscript).collect::<String>() + "√",
                };
                let arg = self.arg();
                self.push_str(&root);
                self.push_atomic(&arg);
            }
            "not" => {
                let arg = self.arg();
                let negated = match arg.trim() {
                    "=" => "≠".to_string(),
                    "∈" => "∉".to_string(),
                    "⊂" => "⊄".to_string(),
                    "⊆" => "⊈".to_string(),
                    "≡" => "≢".to_string(),
                    "∼" | "~" => "≁".to_string(),
                    a => format!("{a}\u{338}"),
                };
                self.push_str(&negated);
            }
            "mathbb" | "mathds" | "mathbbm" | "bbold" => {
                let arg = self.arg();
                let s: String = arg.chars().map(double_struck).collect();
                self.push_str(&s);
            }
            "textsuperscript" | "textsubscript" => {
                let arg = self.text_arg();
                self.script(&arg, name == "textsuperscript");
            }
            "textcolor" | "colorbox" => {
                self.raw_arg();
                let arg = self.text_arg();
                self.push_str(&arg);
            }
            "iffalse" => self.skip_to_fi(),
            "operatorname" | "mathop" => {
                self.skip_star();
                let arg = self.arg();
                if self.last_out().is_some_and(char::is_alphanumeric) {
                    self.push(' ');
                }
                self.push_str(arg.trim());
            }
            _ if is_text_style(name) => {
                let arg = self.text_arg();
                self.push_str(&arg);
            }
            _ if is_math_style(name) => {
                let arg = self.arg();
                self.push_str(&arg);
            }
            _ => self.unknown(name),
        }
    }

    /// A user macro or a command this table does not know: `\foo{arg}` gives the argument,
    /// a bare `\ours` (or `\ours{}`) its name, never nothing.
    fn unknown(&mut self, name: &str) {
        if self.peek(0) == Some('{') {
            let arg = self.arg();
            if arg.trim().is_empty() {
                self.push_str(name);
            } else {
                self.push_str(&arg);
            }
        } else {
            self.push_str(name);
        }
    }

    /// `\iffalse … \fi` is a comment: skip to the `\fi` (or only the `\iffalse` if none).
    fn skip_to_fi(&mut self) {
        let mut j = self.i;
        while j + 3 <= self.s.len() {
            if self.s[j] == '\\'
                && self.s[j + 1] == 'f'
                && self.s[j + 2] == 'i'
                && self.s.get(j + 3).is_none_or(|c| !c.is_ascii_alphabetic())
            {
                self.i = j + 3;
                self.mark_dropped();
                return;
            }
            j += 1;
        }
    }
}

/// Whether `s` reads as one token in `a/b`, `√x` or `x^(…)`: no space and no operator
/// outside brackets (`p(x|z)`, `2n`, `log` are; `x+1`, `1/2`, `∂ f` are not).
fn is_atomic(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '⟨' => depth += 1,
            ')' | ']' | '}' | '⟩' => depth -= 1,
            _ if depth > 0 => {}
            _ if c.is_whitespace()
                || "+-−*/=<>×·±∓≤≥≈≠~∼≃∝∈∉⊂⊆⊃⊇∪∩→←⇒⇐↔⇔⊙⊗⊕∘∧∨,;:|&".contains(c) =>
            {
                return false;
            }
            _ => {}
        }
    }
    true
}

/// `base` with the accent `mark`: a precomposed letter when one exists (`é`), else the base
/// followed by the combining mark. Arguments longer than one character are left as they are.
fn accented(base: &str, mark: char) -> String {
    let base = base.trim();
    let mut chars = base.chars();
    let (Some(first), None) = (chars.next(), chars.next()) else {
        return base.to_string();
    };
    let b = match first {
        'ı' => 'i',
        'ȷ' => 'j',
        c => c,
    };
    let composed = COMPOSED
        .iter()
        .find(|(m, _)| *m == mark)
        .and_then(|(_, pairs)| {
            let cs: Vec<char> = pairs.chars().collect();
            cs.chunks(2)
                .find(|p| p.first() == Some(&b))
                .and_then(|p| p.get(1).copied())
        });
    match composed {
        Some(c) => c.to_string(),
        None => format!("{b}{mark}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> String {
        to_text(s)
    }

    #[test]
    fn arcseconds_primes_and_quotes() {
        assert_eq!(t(r"$\sim$0.07''"), "~0.07″");
        assert_eq!(
            t(r"a resolution of $\sim$0.07'' and 5' fields"),
            "a resolution of ~0.07″ and 5′ fields"
        );
        assert_eq!(t("``x''"), "“x”");
        assert_eq!(t("`x'"), "‘x’");
        assert_eq!(t("``the 1990''"), "“the 1990”");
        assert_eq!(
            t("the model's output and the models' outputs"),
            "the model's output and the models' outputs"
        );
        assert_eq!(t("the 1990's"), "the 1990's");
        assert_eq!(t("$f'(x)$ and $f''$"), "f′(x) and f″");
    }

    #[test]
    fn style_commands_keep_their_argument() {
        for cmd in [
            "emph",
            "textit",
            "textbf",
            "texttt",
            "textsc",
            "textrm",
            "text",
            "mathrm",
            "mathbf",
            "mathit",
            "mathsf",
            "operatorname",
            "underline",
            "hbox",
        ] {
            assert_eq!(
                t(&format!(r"a \{cmd}{{full-rankness}} b")),
                "a full-rankness b",
                "{cmd}"
            );
        }
        assert_eq!(
            t(r"{\em situated temporal planning} in"),
            "situated temporal planning in"
        );
        assert_eq!(
            t(r"for {\it any monotone transform} of"),
            "for any monotone transform of"
        );
        assert_eq!(t(r"$\mathcal{O}(n)$"), "O(n)");
        assert_eq!(t(r"$\textrm{sign}(\cdot)$"), "sign(·)");
        assert_eq!(
            t(r"$O(1/\text{number of iterations})$"),
            "O(1/number of iterations)"
        );
        assert_eq!(t(r"$\operatorname*{argmax}_x f$"), "argmaxₓ f");
    }

    #[test]
    fn blackboard_bold() {
        assert_eq!(t(r"$\mathbb{R}^n$"), "ℝⁿ");
        assert_eq!(
            t(r"$\mathbb{N}, \mathbb{Z}, \mathbb{Q}, \mathbb{C}, \mathbb{E}, \mathbb{P}$"),
            "ℕ, ℤ, ℚ, ℂ, 𝔼, ℙ"
        );
        assert_eq!(t(r"$\mathbb{F}_2$"), "F₂");
        assert_eq!(t(r"$x \in \R^d$"), "x ∈ ℝᵈ");
    }

    #[test]
    fn superscripts_and_subscripts() {
        assert_eq!(t("$10^{-3}$"), "10⁻³");
        assert_eq!(t("$x^2$"), "x²");
        assert_eq!(t("$n^{1/2}$"), "n^(1/2)");
        assert_eq!(t("$x_i$"), "xᵢ");
        assert_eq!(t("$O(n_{max})$"), "O(nₘₐₓ)");
        assert_eq!(t("$x_{i,j}$"), "x_(i,j)");
        assert_eq!(t("$l_q$"), "l_q");
        assert_eq!(t(r"$\ell_1$ and $L^2$"), "ℓ₁ and L²");
        assert_eq!(t(r"$O(\epsilon^{-4})$"), "O(ε⁻⁴)");
        assert_eq!(
            t(r"$\mu^*(\mathcal{D}_i) \in \mathcal{Z}^*$"),
            "μ*(Dᵢ) ∈ Z*"
        );
        assert_eq!(t(r"$A^\star$"), "A⋆");
        assert_eq!(t(r"$30^\circ$ and $30^{\circ}$"), "30° and 30°");
        assert_eq!(t(r"$e^{i\pi}$"), "e^iπ");
        assert_eq!(t(r"$x^{a + b}$"), "x^(a + b)");
        assert_eq!(t("$x^$ and $y_{}$"), "x and y");
    }

    #[test]
    fn greek_letters() {
        assert_eq!(
            t(
                r"$\alpha\beta\gamma\delta\epsilon\varepsilon\zeta\eta\theta\vartheta\iota\kappa\lambda\mu\nu\xi\pi\rho\sigma\tau\upsilon\phi\varphi\chi\psi\omega$"
            ),
            "αβγδεεζηθϑικλμνξπρστυφφχψω"
        );
        assert_eq!(
            t(r"$\Gamma\Delta\Theta\Lambda\Xi\Pi\Sigma\Upsilon\Phi\Psi\Omega$"),
            "ΓΔΘΛΞΠΣΥΦΨΩ"
        );
        assert_eq!(t(r"$\Omega(k d)$ measurements"), "Ω(k d) measurements");
    }

    #[test]
    fn operators_and_symbols() {
        let cases = [
            (r"\times", "×"),
            (r"\pm", "±"),
            (r"\mp", "∓"),
            (r"\leq", "≤"),
            (r"\le", "≤"),
            (r"\geq", "≥"),
            (r"\ge", "≥"),
            (r"\neq", "≠"),
            (r"\approx", "≈"),
            (r"\sim", "~"),
            (r"\simeq", "≃"),
            (r"\propto", "∝"),
            (r"\cdot", "·"),
            (r"\infty", "∞"),
            (r"\rightarrow", "→"),
            (r"\to", "→"),
            (r"\leftarrow", "←"),
            (r"\Rightarrow", "⇒"),
            (r"\leftrightarrow", "↔"),
            (r"\in", "∈"),
            (r"\subset", "⊂"),
            (r"\cup", "∪"),
            (r"\cap", "∩"),
            (r"\sum", "Σ"),
            (r"\prod", "Π"),
            (r"\int", "∫"),
            (r"\partial", "∂"),
            (r"\nabla", "∇"),
            (r"\ell", "ℓ"),
            (r"\hbar", "ħ"),
            (r"\odot", "⊙"),
            (r"\otimes", "⊗"),
            (r"\oplus", "⊕"),
            (r"\langle", "⟨"),
            (r"\rangle", "⟩"),
            (r"\lvert", "|"),
            ("|", "|"),
            (r"\ldots", "…"),
            (r"\dots", "…"),
            (r"\cdots", "…"),
            (r"\circ", "∘"),
            (r"\dagger", "†"),
            (r"\star", "⋆"),
            (r"\ast", "∗"),
            (r"\prime", "′"),
            (r"\exists", "∃"),
            (r"\forall", "∀"),
            (r"\wedge", "∧"),
            (r"\vee", "∨"),
            (r"\ll", "≪"),
        ];
        for (tex, want) in cases {
            assert_eq!(t(&format!("${tex}$")), want, "{tex}");
        }
        assert_eq!(t(r"$n \times d$"), "n × d");
        assert_eq!(t(r"$y \approx Ax$"), "y ≈ Ax");
        assert_eq!(t(r"$\gamma\in[0,1]$"), "γ∈[0,1]");
        assert_eq!(
            t(r"$p(x|\mathcal{D}_i) \propto p(\mathcal{D}_i|x)p(x)$"),
            "p(x|Dᵢ) ∝ p(Dᵢ|x)p(x)"
        );
        assert_eq!(t(r"$\left(\frac{a}{b}\right)$"), "(a/b)");
        assert_eq!(t(r"$\left\langle x\right.$"), "⟨ x");
        assert_eq!(t(r"$P \neq NP$"), "P ≠ NP");
        assert_eq!(t(r"$\not\in$ and $\not=$"), "∉ and ≠");
    }

    #[test]
    fn functions_are_words() {
        assert_eq!(t(r"$O(kn\log d /\epsilon^2)$"), "O(kn log d /ε²)");
        assert_eq!(
            t(r"$\log n$, $\exp(x)$, $\min_x$, $\max$, $\sin\theta$"),
            "log n, exp(x), minₓ, max, sinθ"
        );
        assert_eq!(t(r"$O(k\log L)$"), "O(k log L)");
    }

    #[test]
    fn sqrt_and_frac() {
        assert_eq!(t(r"$\sqrt{x}$"), "√x");
        assert_eq!(t(r"$\sqrt{x+1}$"), "√(x+1)");
        assert_eq!(t(r"$O(\sqrt{T})$"), "O(√T)");
        assert_eq!(t(r"$\sqrt[3]{n}$"), "∛n");
        assert_eq!(t(r"$\frac{a}{b}$"), "a/b");
        assert_eq!(t(r"$\frac{1}{2}$ and $\frac12$"), "1/2 and 1/2");
        assert_eq!(t(r"$\frac{x+1}{n-1}$"), "(x+1)/(n-1)");
        assert_eq!(t(r"$\frac{p(x)}{q(x)}$"), "p(x)/q(x)");
        assert_eq!(t(r"$\frac{1}{\sqrt{d}}$"), "1/√d");
        assert_eq!(t(r"$\binom{n}{k}$"), "C(n, k)");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            t(r"50\% of \& and a\_b \#1 \{x\}"),
            "50% of & and a_b #1 {x}"
        );
        assert_eq!(t(r"a\,b a\;b a\:b a\!b a\ b a~b"), "a b a b a b ab a b a b");
        assert_eq!(t(r"line\\next"), "line next");
        assert_eq!(t(r"costs \$5 per hour"), "costs USD 5 per hour");
        assert_eq!(t(r"costs \$ 5"), "costs USD 5");
        assert_eq!(t(r"$10\,\mathrm{ms}$"), "10 ms");
        assert_eq!(t(r"a\/b\-c"), "abc");
    }

    #[test]
    fn accents() {
        assert_eq!(t(r"\'e \'{e} \`a \^o \~n \=a \.z"), "é é à ô ñ ā ż");
        assert_eq!(t(r#"\"o {\"u} Schr\"odinger"#), "ö ü Schrödinger");
        assert_eq!(t(r"\c{c} \c c \v{s} \H{o} Erd\H{o}s"), "ç ç š ő Erdős");
        assert_eq!(t(r"\aa \AA \o \O \ss \ae \oe \l \L"), "åÅøØßæœłŁ");
        assert_eq!(t(r"Gro\ss e and K\o benhavn"), "Große and København");
        assert_eq!(t(r"\'{\i} \'\i"), "í í");
        assert_eq!(t(r"Polyak-\L{}ojasiewicz"), "Polyak-Łojasiewicz");
        assert_eq!(t(r"\k{a} \r{u} \u{g}"), "ą ů ğ");
        // No precomposed form: the combining mark follows the letter.
        assert_eq!(t(r"\'x"), "x\u{301}");
        assert_eq!(
            t(r"$\hat{y}$ $\tilde{\mathcal{O}}(n)$ $\bar{x}$"),
            "ŷ Õ(n) x̄"
        );
        assert_eq!(t(r"$\vec{v}$"), "v\u{20D7}");
    }

    #[test]
    fn references_are_dropped_cleanly() {
        assert_eq!(t(r"as shown in \cite{a,b}."), "as shown in.");
        assert_eq!(t(r"BERT~\citep{devlin} is strong"), "BERT is strong");
        assert_eq!(t(r"models \cite{a}, which"), "models, which");
        assert_eq!(t(r"models (\citet*[p.~3]{a}) are"), "models are");
        assert_eq!(t(r"models (see~\cite{a}) are"), "models (see) are");
        assert_eq!(
            t(r"in Section~\ref{sec:x} and Eq.~\eqref{e}"),
            "in Section and Eq."
        );
        assert_eq!(
            t(r"results\label{x} hold\footnote{A note.}."),
            "results hold."
        );
        assert_eq!(t(r"\cite{x} We"), "We");
        assert_eq!(t(r"a\cite{x}b"), "a b");
    }

    #[test]
    fn links() {
        assert_eq!(
            t(r"code at \url{https://github.com/a/b_c%20~d}"),
            "code at https://github.com/a/b_c%20~d"
        );
        assert_eq!(t(r"see \href{https://x.org}{our site}"), "see our site");
        assert_eq!(t(r"see \href{https://x.org}{}"), "see https://x.org");
        assert_eq!(
            t("http://www.cs.x.edu/~user/page"),
            "http://www.cs.x.edu/~user/page"
        );
    }

    #[test]
    fn unknown_commands_and_environments() {
        assert_eq!(t(r"\foo{arg}"), "arg");
        assert_eq!(t(r"we propose \ours, which"), "we propose ours, which");
        assert_eq!(t(r"\ours{} is fast"), "ours is fast");
        assert_eq!(t(r"a \Cpp toolchain"), "a Cpp toolchain");
        assert_eq!(t(r"\begin{itemize}\item A \item B\end{itemize}"), "A B");
        assert_eq!(
            t(r"namely \ThePrev---\underline{S}tochastic"),
            "namely ThePrev---Stochastic"
        );
        assert_eq!(
            t(r"other classes \iffalse -- which are clustered -- \fi we refer"),
            "other classes we refer"
        );
        assert_eq!(t(r"\LaTeX{} and \TeX"), "LaTeX and TeX");
    }

    #[test]
    fn braces_and_unbalanced_input() {
        assert_eq!(t("{BERT} and {{GPT}}"), "BERT and GPT");
        assert_eq!(t("a } b { c"), "a b c");
        assert_eq!(t("a lone $ dollar"), "a lone dollar");
        assert_eq!(t("a $x unterminated"), "a x unterminated");
        assert_eq!(t("$$"), "");
        assert_eq!(t("\\"), "");
        assert_eq!(t(r"\frac{"), "/");
        assert_eq!(t(r"\(x^2\) and \[y_1\]"), "x² and y₁");
        assert_eq!(t(r"$$E = mc^2$$"), "E = mc²");
        assert_eq!(t(r"\emph{a $b} c"), "a b c");
    }

    #[test]
    fn plain_text_is_unchanged_but_for_whitespace() {
        for s in [
            "C++ and C# at 50% with x^2 and snake_case_names.",
            "See https://github.com/a/b.git?x=1&y=2#frag for code.",
            "PLMs -- large weight matrices -- were shown to bear redundancy.",
            "The \"quoted\" term, (i) first; (ii) second: done!",
            "Résumé of naïve Erdős — ünïcödé, 日本語, emoji 🚀.",
        ] {
            assert_eq!(t(s), s);
        }
        assert_eq!(
            t("  Multi-electron\nproduction   is\tstudied  "),
            "Multi-electron production is studied"
        );
        assert_eq!(t(""), "");
        assert_eq!(t("   \n "), "");
    }

    #[test]
    fn real_abstract_fragments() {
        assert_eq!(
            t(
                r"we identify the \textit{full-rankness} of fine-tuned PLM as the fundamental bottleneck"
            ),
            "we identify the full-rankness of fine-tuned PLM as the fundamental bottleneck"
        );
        assert_eq!(
            t(
                r"we show that $\min \int_{\mathbb{R}^N}f(u,\nabla u)$ with $\int_{\mathbb{R}^N}u=m$ for $N\geq 2$"
            ),
            "we show that min ∫_ℝᴺf(u,∇ u) with ∫_ℝᴺu=m for N≥ 2"
        );
        assert_eq!(
            t(r"measures $\sum_i m_i\delta_{x_i}$"),
            "measures Σᵢ mᵢδ_xᵢ"
        );
        assert_eq!(
            t(r"roughly $m=\tilde{\mathcal{O}} (kn\log d /\epsilon^2)$ random"),
            "roughly m=Õ (kn log d /ε²) random"
        );
        assert_eq!(t(r"2{\sc } images"), "2 images");
        assert_eq!(
            t(r"a $\Gamma$-convergence for $\varepsilon\to 0$"),
            "a Γ-convergence for ε→ 0"
        );
        assert_eq!(t(r"$k$-means with $\pm1$ labels"), "k-means with ±1 labels");
    }

    #[test]
    fn accent_tables_are_pairs_of_a_base_and_a_precomposed_letter() {
        for (mark, pairs) in COMPOSED {
            let cs: Vec<char> = pairs.chars().collect();
            assert_eq!(cs.len() % 2, 0, "{mark:?}");
            for p in cs.chunks(2) {
                assert!(p[0].is_ascii_alphabetic() && !p[1].is_ascii(), "{p:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = "{".repeat(100_000) + "x" + &"}".repeat(100_000);
        assert_eq!(t(&deep), "x");
        let scripts = "$".to_string() + &"x^".repeat(50_000) + "$";
        assert!(!t(&scripts).contains('$'));
        let fracs = r"\frac".repeat(50_000);
        assert!(!t(&fracs).contains('\\'));
        let sqrts = r"\sqrt[".repeat(20_000);
        assert!(!t(&sqrts).contains('\\'));
    }

    /// The invariant every output keeps.
    fn clean(out: &str) -> Result<(), TestCaseError> {
        prop_assert!(!out.contains('$') && !out.contains('\\'), "{:?}", out);
        prop_assert!(!out.contains("  ") && out.trim() == out, "{:?}", out);
        prop_assert!(
            !out.chars().any(|c| c.is_whitespace() && c != ' '),
            "{:?}",
            out
        );
        Ok(())
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "$",
                "$$",
                "\\",
                "{",
                "}",
                "^",
                "_",
                "~",
                "'",
                "''",
                "`",
                "``",
                "\\(",
                "\\)",
                "\\[",
                "\\]",
                "\\frac",
                "\\sqrt",
                "\\sqrt[",
                "]",
                "[",
                "\\emph",
                "\\cite",
                "\\url",
                "\\href",
                "\\'",
                "\\\"",
                "\\c",
                "\\v",
                "\\H",
                "\\i",
                "\\ss",
                "\\alpha",
                "\\mathbb",
                "\\left",
                "\\right",
                ".",
                "\\not",
                "\\text",
                "\\begin",
                "\\end",
                "\\iffalse",
                "\\fi",
                "\\$",
                "\\\\",
                "\\%",
                "\\,",
                "\\ours",
                "\\mathcal",
                "\\hat",
                "\\operatorname*",
                "(",
                ")",
                " ",
                "\n",
                "x",
                "2",
                "a",
                "é",
                "\\textsuperscript",
                "\\binom",
                "\\href{",
            ])
            .prop_map(str::to_string),
            "\\PC{0,4}",
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_strings_give_clean_text(s in "\\PC{0,200}") {
            clean(&to_text(&s))?;
        }

        #[test]
        fn arbitrary_bytes_as_text_give_clean_text(s in any::<String>()) {
            clean(&to_text(&s))?;
        }

        #[test]
        fn latex_fragments_give_clean_text(parts in prop::collection::vec(fragment(), 0..60)) {
            clean(&to_text(&parts.concat()))?;
        }

        #[test]
        fn the_fast_path_agrees_with_the_converter(s in "[a-z0-9 '.%^_()\n-]{0,80}") {
            prop_assert_eq!(to_text(&s), convert(&s));
        }

        #[test]
        fn text_without_specials_is_only_whitespace_collapsed(s in "[a-zA-Z0-9 .,;:!?()%+\n-]{0,120}") {
            let want = s.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(to_text(&s), want);
        }
    }
}
