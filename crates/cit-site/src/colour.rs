//! Theme colours: parsing `#rrggbb`, WCAG contrast, and the shades the templates use. A partner's
//! primary colour is darkened when needed so that white text on it and links in it reach 4.5:1.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb` (or `rrggbb`); anything else is `None`.
    pub fn parse(raw: &str) -> Option<Rgb> {
        let hex = raw.trim().trim_start_matches('#');
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Comma-separated channels, for `rgba(var(--x-rgb), a)`.
    pub fn channels(self) -> String {
        format!("{}, {}, {}", self.0, self.1, self.2)
    }

    fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }

    /// WCAG 2.1 contrast ratio, 1 to 21.
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// Each channel scaled towards black by `amount` (0 to 1).
    pub fn darken(self, amount: f64) -> Rgb {
        let f = (1.0 - amount).clamp(0.0, 1.0);
        let ch = |c: u8| (f64::from(c) * f).round().clamp(0.0, 255.0) as u8;
        Rgb(ch(self.0), ch(self.1), ch(self.2))
    }

    /// Each channel moved towards white by `amount` (0 to 1).
    pub fn lighten(self, amount: f64) -> Rgb {
        let a = amount.clamp(0.0, 1.0);
        let ch = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * a).round().clamp(0.0, 255.0) as u8;
        Rgb(ch(self.0), ch(self.1), ch(self.2))
    }

    /// This colour, darkened in small steps until it reaches `ratio` against `background`.
    pub fn with_contrast(self, background: Rgb, ratio: f64) -> Rgb {
        let mut c = self;
        for _ in 0..40 {
            if c.contrast(background) >= ratio {
                return c;
            }
            c = c.darken(0.05);
        }
        Rgb(0, 0, 0)
    }
}

pub const WHITE: Rgb = Rgb(255, 255, 255);

/// The colours a theme's CSS is generated from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Palette {
    /// The primary colour, made accessible: white text on it, and it as text on white, ≥ 4.5:1.
    pub primary: String,
    pub primary_rgb: String,
    /// Darker shades for the slim header and the footer.
    pub primary_dark: String,
    pub primary_darker: String,
    /// A very light tint for section backgrounds.
    pub primary_tint: String,
    /// The secondary colour as given (used for decoration: borders, rules).
    pub secondary: String,
    /// The secondary colour made readable as text on white.
    pub secondary_text: String,
}

impl Palette {
    pub fn new(primary: Rgb, secondary: Rgb) -> Palette {
        let p = primary.with_contrast(WHITE, 4.5);
        Palette {
            primary: p.hex(),
            primary_rgb: p.channels(),
            primary_dark: p.darken(0.2).hex(),
            primary_darker: p.darken(0.4).hex(),
            primary_tint: primary.lighten(0.92).hex(),
            secondary: secondary.hex(),
            secondary_text: secondary.with_contrast(WHITE, 4.5).hex(),
        }
    }

    /// The CSS custom properties of the theme, served as `theme.css`.
    pub fn css(&self) -> String {
        format!(
            ":root{{--cit-primary:{p};--cit-primary-rgb:{rgb};--cit-primary-dark:{d};--cit-primary-darker:{dd};\
             --cit-primary-tint:{t};--cit-secondary:{s};--cit-secondary-text:{st};\
             --bs-primary:{p};--bs-primary-rgb:{rgb};--bs-link-color:{p};--bs-link-color-rgb:{rgb};\
             --bs-link-hover-color:{d}}}\n",
            p = self.primary,
            rgb = self.primary_rgb,
            d = self.primary_dark,
            dd = self.primary_darker,
            t = self.primary_tint,
            s = self.secondary,
            st = self.secondary_text,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_and_prints_hex() {
        assert_eq!(Rgb::parse("#0066cc"), Some(Rgb(0, 102, 204)));
        assert_eq!(Rgb::parse("0066CC").map(Rgb::hex).as_deref(), Some("#0066cc"));
        for bad in ["", "#06c", "#0066cg", "#0066cc00", "#ééé"] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((Rgb(0, 0, 0).contrast(WHITE) - 21.0).abs() < 0.01);
        assert!((Rgb(0, 102, 204).contrast(WHITE) - 5.57).abs() < 0.05);
    }

    #[test]
    fn light_primaries_are_darkened_until_readable() {
        let yellow = Rgb::parse("#ffd700").unwrap();
        let p = Palette::new(yellow, yellow);
        let fixed = Rgb::parse(&p.primary).unwrap();
        assert!(fixed.contrast(WHITE) >= 4.5);
        let fine = Rgb::parse("#9b1b30").unwrap();
        assert_eq!(Palette::new(fine, fine).primary, "#9b1b30");
    }
}
