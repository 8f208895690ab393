//! Apache's `%{FORMAT}t` with a strftime(3) FORMAT, read back (pure): a
//! format compiles to conversions ([`Strftime::compile`]); a field's text
//! reads ([`Strftime::read`]) to the parts of a time it gives, and the parts
//! of every such field of a line add up to one time ([`Reading::unix_ms`]),
//! as in Apache's own example `[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t]`.
//!
//! Read as the C locale writes them (Apache formats in the server's
//! locale; month and day names here are English). Numbers take up to their
//! width in digits after any padding spaces, so `%e`, `%k`, `%l` and the
//! glibc flags (`%-d`, `%_H`) read too. `%z` is `+hhmm` (or `+hh:mm`); a
//! time without it is read as UTC, which is what a container's local time
//! is unless its image sets `TZ`. `%Z` (a zone's name) is read past: it
//! gives no offset. Conversions that give no part of a date (`%U`, `%V`,
//! `%G`, ...) and locale variants (`%E`, `%O`) are refused by name.

use crate::traffic::parse::time;

/// One step of a compiled format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    Literal(u8),
    /// A number of at most `width` digits after padding spaces.
    Number(Part, usize),
    /// `%b` (`Dec`) or `%B` (`December`).
    MonthName,
    /// `%a` or `%A`: letters, read past.
    Weekday,
    /// `%p` / `%P`: AM or PM.
    Meridian,
    /// `%z`: `+hhmm` or `+hh:mm`.
    Offset,
    /// `%Z`: letters, read past.
    ZoneName,
    /// `%s`: seconds since the epoch.
    Epoch,
}

/// Which part of a time a number gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Year,
    /// Two digits: 69-99 are 19xx, 00-68 20xx (POSIX).
    Year2,
    Month,
    Day,
    Hour,
    Hour12,
    Minute,
    Second,
    /// `%u` / `%w`: read past.
    WeekdayNumber,
    /// `%j`: read past (the month and day say it).
    DayOfYear,
}

/// A compiled strftime format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strftime {
    convs: Vec<Conv>,
}

/// What a strftime format fails to compile for: the offending conversion
/// (`%U`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrftimeError {
    pub conversion: String,
    pub message: &'static str,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl Strftime {
    /// Compiles a strftime format (the text between `%{` and `}t`).
    pub fn compile(format: &str) -> Result<Self, StrftimeError> {
        let mut convs = Vec::new();
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                convs.push(Conv::Literal(b[i]));
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            while b.get(i).is_some_and(|c| b"-_0^#".contains(c)) {
                i += 1;
            }
            let Some(&letter) = b.get(i) else {
                return Err(StrftimeError {
                    conversion: format[start..].to_owned(),
                    message: "ends the format without a conversion letter",
                });
            };
            i += 1;
            if !expand(letter, &mut convs) {
                return Err(StrftimeError {
                    conversion: format.get(start..i).unwrap_or(&format[start..]).to_owned(),
                    message: "is a strftime conversion that is not read (read: %Y %y %m %b %B %d %e %j %H %k %I %l %p %M %S %s %z %Z %a %A %u %w %T %F %D %R %r %c %x %X %n %t %%)",
                });
            }
        }
        Ok(Self { convs })
    }

    /// Whether the format gives a date and a time of day (the epoch gives both).
    pub fn gives(&self) -> Gives {
        let has = |part: Part| {
            self.convs
                .iter()
                .any(|c| matches!(c, Conv::Number(p, _) if *p == part))
        };
        let epoch = self.convs.contains(&Conv::Epoch);
        Gives {
            date: epoch
                || (has(Part::Year) || has(Part::Year2))
                    && (has(Part::Month) || self.convs.contains(&Conv::MonthName))
                    && has(Part::Day),
            time_of_day: epoch || has(Part::Hour) || has(Part::Hour12),
        }
    }

    /// The parts of a time in `text`, which must be all of the format's
    /// output; `None` when it is not.
    pub fn read(&self, text: &[u8]) -> Option<Reading> {
        let mut r = Reading::default();
        let mut i = 0;
        for conv in &self.convs {
            i = match *conv {
                Conv::Literal(c) => (text.get(i) == Some(&c)).then_some(i + 1)?,
                Conv::Number(part, width) => {
                    let (v, next) = number(text, i, width)?;
                    r.set(part, v)?;
                    next
                }
                Conv::MonthName => {
                    let (month, next) = month_name(text, i)?;
                    r.month = Some(month);
                    next
                }
                Conv::Weekday | Conv::ZoneName => letters(text, i)?,
                Conv::Meridian => {
                    let word = text.get(i..i + 2)?.to_ascii_lowercase();
                    r.pm = Some(match word.as_slice() {
                        b"am" => false,
                        b"pm" => true,
                        _ => return None,
                    });
                    i + 2
                }
                Conv::Offset => {
                    let (seconds, next) = offset(text, i)?;
                    r.offset_s = Some(seconds);
                    next
                }
                Conv::Epoch => {
                    let end = i + text[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let digits = std::str::from_utf8(&text[i..end]).ok()?;
                    r.epoch_s = Some(digits.parse().ok()?);
                    end
                }
            };
        }
        (i == text.len()).then_some(r)
    }
}

/// What a format (or all of a line's) gives of a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gives {
    pub date: bool,
    pub time_of_day: bool,
}

impl Gives {
    pub fn and(self, other: Self) -> Self {
        Self {
            date: self.date || other.date,
            time_of_day: self.time_of_day || other.time_of_day,
        }
    }
}

/// The parts of a time read from one or more strftime fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    hour12: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    offset_s: Option<i64>,
    epoch_s: Option<i64>,
}

impl Reading {
    /// Takes a number for `part`; `None` when it is out of its range.
    fn set(&mut self, part: Part, v: u32) -> Option<()> {
        match part {
            Part::Year => self.year = Some(i64::from(v)),
            Part::Year2 => {
                let century = if v >= 69 { 1900 } else { 2000 };
                self.year = Some(i64::from(century + v));
            }
            Part::Month if (1..=12).contains(&v) => self.month = Some(v),
            Part::Day if (1..=31).contains(&v) => self.day = Some(v),
            Part::Hour if v <= 23 => self.hour = Some(v),
            Part::Hour12 if (1..=12).contains(&v) => self.hour12 = Some(v),
            Part::Minute if v <= 59 => self.minute = Some(v),
            Part::Second if v <= 60 => self.second = Some(v),
            Part::WeekdayNumber | Part::DayOfYear => {}
            _ => return None,
        }
        Some(())
    }

    /// This reading with the parts `other` has and this one lacks.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        Self {
            year: self.year.or(other.year),
            month: self.month.or(other.month),
            day: self.day.or(other.day),
            hour: self.hour.or(other.hour),
            hour12: self.hour12.or(other.hour12),
            pm: self.pm.or(other.pm),
            minute: self.minute.or(other.minute),
            second: self.second.or(other.second),
            offset_s: self.offset_s.or(other.offset_s),
            epoch_s: self.epoch_s.or(other.epoch_s),
        }
    }

    /// Unix milliseconds (whole seconds), when the parts make a time.
    pub fn unix_ms(&self) -> Option<i64> {
        if let Some(s) = self.epoch_s {
            return s.checked_mul(1000);
        }
        let hour = match (self.hour, self.hour12, self.pm) {
            (Some(h), ..) => h,
            (None, Some(h), pm) => h % 12 + if pm == Some(true) { 12 } else { 0 },
            (None, None, _) => return None,
        };
        let (year, month, day) = (self.year?, self.month?, self.day?);
        let days = time::days_from_civil(year, month, day);
        let seconds = days * 86_400
            + i64::from(hour * 3600 + self.minute.unwrap_or(0) * 60 + self.second.unwrap_or(0))
            - self.offset_s.unwrap_or(0);
        Some(seconds * 1000)
    }
}

/// Adds the conversions `%<letter>` stands for; false when it is not read.
fn expand(letter: u8, convs: &mut Vec<Conv>) -> bool {
    let composite = match letter {
        b'T' | b'X' => "%H:%M:%S",
        b'F' => "%Y-%m-%d",
        b'D' | b'x' => "%m/%d/%y",
        b'R' => "%H:%M",
        b'r' => "%I:%M:%S %p",
        b'c' => "%a %b %e %H:%M:%S %Y",
        _ => "",
    };
    if !composite.is_empty() {
        for pair in composite.as_bytes().split(|&c| c == b'%').skip(1) {
            expand(pair[0], convs);
            convs.extend(pair[1..].iter().map(|&c| Conv::Literal(c)));
        }
        return true;
    }
    let conv = match letter {
        b'Y' => Conv::Number(Part::Year, 4),
        b'y' => Conv::Number(Part::Year2, 2),
        b'm' => Conv::Number(Part::Month, 2),
        b'd' | b'e' => Conv::Number(Part::Day, 2),
        b'j' => Conv::Number(Part::DayOfYear, 3),
        b'H' | b'k' => Conv::Number(Part::Hour, 2),
        b'I' | b'l' => Conv::Number(Part::Hour12, 2),
        b'M' => Conv::Number(Part::Minute, 2),
        b'S' => Conv::Number(Part::Second, 2),
        b'u' | b'w' => Conv::Number(Part::WeekdayNumber, 1),
        b'b' | b'h' | b'B' => Conv::MonthName,
        b'a' | b'A' => Conv::Weekday,
        b'p' | b'P' => Conv::Meridian,
        b'z' => Conv::Offset,
        b'Z' => Conv::ZoneName,
        b's' => Conv::Epoch,
        b'n' => Conv::Literal(b'\n'),
        b't' => Conv::Literal(b'\t'),
        b'%' => Conv::Literal(b'%'),
        _ => return false,
    };
    convs.push(conv);
    true
}

/// A number of at most `width` digits at `i`, after padding spaces (as
/// many as the width leaves room for).
fn number(text: &[u8], i: usize, width: usize) -> Option<(u32, usize)> {
    let spaces = text[i..]
        .iter()
        .take(width - 1)
        .take_while(|&&c| c == b' ')
        .count();
    let start = i + spaces;
    let digits = text[start..]
        .iter()
        .take(width - spaces)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let v = text[start..start + digits]
        .iter()
        .fold(0, |v, &c| v * 10 + u32::from(c - b'0'));
    Some((v, start + digits))
}

/// A month's name or its three-letter abbreviation, any case.
fn month_name(text: &[u8], i: usize) -> Option<(u32, usize)> {
    let word = &text[i..letters(text, i)?];
    let lower = word.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| {
        (lower.len() == 3 || lower.len() == m.len()) && m.as_bytes().starts_with(&lower)
    })?;
    Some((u32::try_from(month).ok()? + 1, i + word.len()))
}

/// The end of a run of at least one ASCII letter at `i`.
fn letters(text: &[u8], i: usize) -> Option<usize> {
    let n = text[i..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    (n > 0).then_some(i + n)
}

/// `+hhmm` or `+hh:mm` at `i`: seconds east of UTC.
fn offset(text: &[u8], i: usize) -> Option<(i64, usize)> {
    let end = i + if text.get(i + 3) == Some(&b':') { 6 } else { 5 };
    Some((time::utc_offset(text.get(i..end)?)?, end))
}

#[cfg(test)]
mod tests;
