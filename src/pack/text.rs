//! The cover's fonts (Noto Sans, SIL Open Font License, compiled in from `assets/fonts/`), what
//! they can show, and how wide a text is: what the cover's layout needs to wrap lines.
//!
//! Text that the font cannot show is never dropped: each character without a glyph is drawn as
//! `?` (so a reader sees that something is there), and the line keeps the original text as its
//! `ActualText` for copying and screen readers. Control characters become spaces.

use rustybuzz::ttf_parser::Face;
use std::sync::LazyLock;

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

/// The character drawn for one the font lacks.
pub const REPLACEMENT: char = '?';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One font's metrics, parsed once.
pub struct Metrics {
    face: Face<'static>,
    upem: f32,
}

static REGULAR: LazyLock<Metrics> = LazyLock::new(|| Metrics::parse(REGULAR_TTF));
static BOLD: LazyLock<Metrics> = LazyLock::new(|| Metrics::parse(BOLD_TTF));

impl Metrics {
    fn parse(data: &'static [u8]) -> Metrics {
        // The fonts are part of the binary and checked by the unit tests below.
        let face = Face::parse(data, 0).expect("the compiled-in font parses");
        let upem = f32::from(face.units_per_em());
        Metrics { face, upem }
    }

    pub fn of(w: Weight) -> &'static Metrics {
        match w {
            Weight::Regular => &REGULAR,
            Weight::Bold => &BOLD,
        }
    }

    pub fn has(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    /// The advance of `c` at `size` points (0 for a character without a glyph).
    pub fn advance(&self, c: char, size: f32) -> f32 {
        self.face
            .glyph_index(c)
            .and_then(|g| self.face.glyph_hor_advance(g))
            .map_or(0.0, |a| f32::from(a) * size / self.upem)
    }

    /// The width of `s` at `size` points: the sum of its advances (kerning ignored; the layout
    /// leaves a margin for it).
    pub fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(c, size)).sum()
    }
}

/// The font data for krilla.
pub fn ttf(w: Weight) -> &'static [u8] {
    match w {
        Weight::Regular => REGULAR_TTF,
        Weight::Bold => BOLD_TTF,
    }
}

/// `s` as it can be drawn in weight `w`: control characters and unusual spaces become plain
/// spaces (line breaks are the caller's), and every character the font has no glyph for
/// becomes [`REPLACEMENT`]. Returns the text and whether anything was replaced.
pub fn drawable(s: &str, w: Weight) -> (String, bool) {
    let m = Metrics::of(w);
    let mut replaced = false;
    let out = s
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                ' '
            } else if m.has(c) {
                c
            } else {
                replaced = true;
                REPLACEMENT
            }
        })
        .collect();
    (out, replaced)
}

/// Breaks `text` into lines no wider than `width` points at `size` in weight `w`. Line breaks in
/// the text are kept (a blank line stays a blank line); otherwise lines break at spaces, and a
/// word wider than a whole line is broken between characters. Nothing is dropped: a line that
/// breaks at a space ends with it. Each line is `(drawable text, original text)` (see
/// [`drawable`]).
pub fn wrap(text: &str, w: Weight, size: f32, width: f32) -> Vec<(String, String)> {
    let m = Metrics::of(w);
    let space = m.advance(' ', size);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let para = para.trim_end_matches('\r');
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for word in para.split([' ', '\t']).filter(|w| !w.is_empty()) {
            let (shown, _) = drawable(word, w);
            let word_w = m.width(&shown, size);
            let sep = if line.is_empty() { 0.0 } else { space };
            if line_w + sep + word_w <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += sep + word_w;
                continue;
            }
            if !line.is_empty() {
                // The space where the line breaks stays at its end (drawn, but invisible), so
                // that the words stay apart when the text is copied or read out.
                line.push(' ');
                out.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= width {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // A word wider than a line: as many characters as fit on each line.
            for c in word.chars() {
                let (shown, _) = drawable(c.encode_utf8(&mut [0; 4]), w);
                let cw = m.width(&shown, size);
                if line_w + cw > width && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += cw;
            }
        }
        out.push(line);
    }
    out.into_iter()
        .map(|original| (drawable(&original, w).0, original))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fonts_parse_and_cover_english_and_western_european_text() {
        for w in [Weight::Regular, Weight::Bold] {
            let m = Metrics::of(w);
            for c in "AZaz09£€é—‘’“”·•ŵŷ".chars() {
                assert!(m.has(c), "{c:?} missing from {w:?}");
            }
            assert!(m.width("Referral pack", 10.0) > 40.0);
        }
    }

    #[test]
    fn characters_the_font_lacks_become_a_visible_mark() {
        let (s, replaced) = drawable("ok 😀 שלום مرحبا\u{202e}x\u{0}", Weight::Regular);
        assert!(replaced);
        assert!(s.starts_with("ok ? "), "{s}");
        assert!(!s.contains('😀') && !s.contains('ש') && !s.contains('م'));
        assert_eq!(
            s.chars().count(),
            "ok 😀 שלום مرحبا\u{202e}x\u{0}".chars().count()
        );
        assert_eq!(
            drawable("Plain text", Weight::Bold),
            ("Plain text".into(), false)
        );
    }

    #[test]
    fn wrapping_keeps_every_character_and_every_line_fits() {
        let long_word = "x".repeat(500);
        let text = format!(
            "First paragraph with several words in it.\n\n{long_word} tail\n{}",
            "word ".repeat(300)
        );
        let lines = wrap(&text, Weight::Regular, 10.0, 200.0);
        let m = Metrics::of(Weight::Regular);
        for (shown, _) in &lines {
            assert!(m.width(shown.trim_end(), 10.0) <= 200.0 + 0.01, "{shown}");
        }
        // A line broken at a space keeps it, so copied text keeps its words apart.
        assert!(lines[0].1.ends_with(' ') || lines[1].1.is_empty());
        // Nothing lost: the words, in order, are those of the text.
        let words_in = |s: &str| s.split_whitespace().collect::<String>();
        let joined: String = lines
            .iter()
            .map(|l| l.1.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(words_in(&joined), words_in(&text));
        // The blank line stays.
        assert_eq!(lines[1].1, "");
        assert!(lines.len() > 10);
    }

    #[test]
    fn wrapping_odd_text_does_not_panic() {
        for t in [
            "",
            "\n\n",
            "\r\n",
            "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
            "עברית עברית עברית",
            "\u{0}\u{1}\u{7f}",
            "a\u{300}\u{301}\u{302}",
        ] {
            let lines = wrap(t, Weight::Bold, 12.0, 30.0);
            assert!(!lines.is_empty(), "{t:?}");
        }
        // Narrower than one character: one character per line, never an endless loop.
        assert_eq!(wrap("abc", Weight::Regular, 10.0, 0.5).len(), 3);
    }
}
