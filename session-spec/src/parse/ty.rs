//! Field types written as Rust: `bool`, `u32`, `String`, `Option<T>`, `Vec<T>`,
//! `BTreeMap<String, T>`, spec enums by name, and user types by path.

use std::ops::Range;

use crate::ir::{FieldType, FloatType, IntType};

use super::suggest;

/// A type that could not be read; `range` is a byte range inside the type text.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub message: String,
    pub range: Range<usize>,
    pub label: String,
    pub help: Option<String>,
}

/// The built-in type names, for suggestions.
const BUILTIN: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "String", "Option",
    "Vec", "BTreeMap", "HashMap", "BTreeSet", "HashSet",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident,
    Colons,
    Lt,
    Gt,
    Comma,
}

/// A parsed type expression: a path with optional generic arguments.
struct Ty {
    path: String,
    range: Range<usize>,
    args: Vec<Ty>,
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
}

fn err(message: impl Into<String>, range: Range<usize>, label: impl Into<String>) -> TypeError {
    TypeError {
        message: message.into(),
        range,
        label: label.into(),
        help: None,
    }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, Range<usize>)>, TypeError> {
    let mut toks = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '<' => toks.push((Tok::Lt, i..i + 1)),
            '>' => toks.push((Tok::Gt, i..i + 1)),
            ',' => toks.push((Tok::Comma, i..i + 1)),
            ':' => {
                if matches!(it.peek(), Some((_, ':'))) {
                    it.next();
                    toks.push((Tok::Colons, i..i + 2));
                } else {
                    return Err(err("expected `::` in a type path", i..i + 1, "single `:`"));
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some((j, d)) = it.peek().copied() {
                    if d.is_alphanumeric() || d == '_' {
                        end = j + d.len_utf8();
                        it.next();
                    } else {
                        break;
                    }
                }
                toks.push((Tok::Ident, i..end));
            }
            c => {
                let mut msg = format!("unexpected `{c}` in a type");
                if c == '&' {
                    msg.push_str(": session fields own their data");
                }
                return Err(err(msg, i..i + c.len_utf8(), "not allowed here"));
            }
        }
    }
    Ok(toks)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn here(&self) -> Range<usize> {
        self.toks
            .get(self.pos)
            .map_or(self.text.len()..self.text.len(), |(_, r)| r.clone())
    }

    fn ty(&mut self) -> Result<Ty, TypeError> {
        let start = self.here().start;
        let mut path = String::new();
        if self.peek() == Some(&Tok::Colons) {
            path.push_str("::");
            self.pos += 1;
        }
        loop {
            match self.toks.get(self.pos) {
                Some((Tok::Ident, r)) => {
                    path.push_str(&self.text[r.clone()]);
                    self.pos += 1;
                }
                _ => return Err(err("expected a type name", self.here(), "expected a name")),
            }
            if self.peek() == Some(&Tok::Colons) {
                path.push_str("::");
                self.pos += 1;
            } else {
                break;
            }
        }
        let mut end = self.toks[self.pos - 1].1.end;
        let mut args = Vec::new();
        if self.peek() == Some(&Tok::Lt) {
            self.pos += 1;
            loop {
                if self.peek() == Some(&Tok::Gt) && !args.is_empty() {
                    break;
                }
                args.push(self.ty()?);
                match self.peek() {
                    Some(Tok::Comma) => self.pos += 1,
                    Some(Tok::Gt) => break,
                    _ => {
                        return Err(err(
                            "expected `,` or `>`",
                            self.here(),
                            "expected `,` or `>`",
                        ));
                    }
                }
            }
            end = self.here().end;
            self.pos += 1;
        }
        Ok(Ty {
            path,
            range: start..end,
            args,
        })
    }
}

/// Reads a field type. `enums` are the names of the enums the spec declares.
pub(crate) fn parse_type(text: &str, enums: &[&str]) -> Result<FieldType, TypeError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(TypeError {
            help: Some("write a Rust type such as `String`, `u64` or `Vec<String>`".into()),
            ..err("empty type", 0..text.len(), "expected a type")
        });
    }
    let mut p = Parser { text, toks, pos: 0 };
    let ty = p.ty()?;
    if p.pos < p.toks.len() {
        let r = p.here();
        return Err(err(
            "unexpected text after the type",
            r.start..text.len(),
            "unexpected",
        ));
    }
    resolve(&ty, enums)
}

/// A user type by path written back as Rust, its arguments checked and in canonical form
/// (`crate::types::Labelled<Vec<String>>`).
fn render(ty: &Ty, enums: &[&str]) -> Result<String, TypeError> {
    if ty.args.is_empty() {
        return Ok(ty.path.clone());
    }
    let mut args = Vec::new();
    for arg in &ty.args {
        args.push(qualified(&resolve(arg, enums)?));
    }
    Ok(format!("{}<{}>", ty.path, args.join(", ")))
}

/// A type written with full paths, so that it means the same next to local types named
/// `String` or `Option` (the generated code does not rely on the prelude).
fn qualified(ty: &FieldType) -> String {
    match ty {
        FieldType::String => "::std::string::String".into(),
        FieldType::Option(t) => format!("::core::option::Option<{}>", qualified(t)),
        FieldType::Vec(t) => format!("::std::vec::Vec<{}>", qualified(t)),
        FieldType::Set(t) => format!("::std::collections::BTreeSet<{}>", qualified(t)),
        FieldType::Map(t) => format!(
            "::std::collections::BTreeMap<::std::string::String, {}>",
            qualified(t)
        ),
        FieldType::Bool | FieldType::Int(_) | FieldType::Float(_) => ty.to_rust(),
        FieldType::Enum(n) | FieldType::Path(n) => n.clone(),
    }
}

fn strip_std<'a>(path: &'a str, modules: &[&str]) -> &'a str {
    for m in modules {
        for root in ["", "::"] {
            for krate in ["std", "core", "alloc"] {
                let prefix = format!("{root}{krate}::{m}::");
                if let Some(rest) = path.strip_prefix(&prefix) {
                    return rest;
                }
            }
        }
    }
    path
}

fn resolve(ty: &Ty, enums: &[&str]) -> Result<FieldType, TypeError> {
    let path = strip_std(&ty.path, &["string", "option", "vec", "collections"]);
    let arity = |n: usize| -> Result<(), TypeError> {
        if ty.args.len() == n {
            Ok(())
        } else if n == 0 {
            Err(err(
                format!("`{path}` takes no type arguments"),
                ty.range.clone(),
                "unexpected `<...>`",
            ))
        } else {
            Err(err(
                format!(
                    "`{path}` takes {n} type argument{}, found {}",
                    if n == 1 { "" } else { "s" },
                    ty.args.len()
                ),
                ty.range.clone(),
                format!("expected {n}"),
            ))
        }
    };
    let int = |i: IntType| arity(0).map(|()| FieldType::Int(i));
    match path {
        "bool" => arity(0).map(|()| FieldType::Bool),
        "i8" => int(IntType::I8),
        "i16" => int(IntType::I16),
        "i32" => int(IntType::I32),
        "i64" => int(IntType::I64),
        "u8" => int(IntType::U8),
        "u16" => int(IntType::U16),
        "u32" => int(IntType::U32),
        "u64" => int(IntType::U64),
        "f32" => arity(0).map(|()| FieldType::Float(FloatType::F32)),
        "f64" => arity(0).map(|()| FieldType::Float(FloatType::F64)),
        "String" => arity(0).map(|()| FieldType::String),
        "Option" => {
            arity(1)?;
            Ok(FieldType::Option(Box::new(resolve(&ty.args[0], enums)?)))
        }
        "Vec" => {
            arity(1)?;
            Ok(FieldType::Vec(Box::new(resolve(&ty.args[0], enums)?)))
        }
        "BTreeSet" | "HashSet" => {
            arity(1)?;
            Ok(FieldType::Set(Box::new(resolve(&ty.args[0], enums)?)))
        }
        "BTreeMap" | "HashMap" => {
            arity(2)?;
            let key = resolve(&ty.args[0], enums)?;
            if key != FieldType::String {
                return Err(TypeError {
                    help: Some("sessions are stored as JSON, whose object keys are strings".into()),
                    ..err(
                        format!("map keys must be `String`, found `{}`", ty.args[0].path),
                        ty.args[0].range.clone(),
                        "expected `String`",
                    )
                });
            }
            Ok(FieldType::Map(Box::new(resolve(&ty.args[1], enums)?)))
        }
        "usize" | "isize" => Err(TypeError {
            help: Some(format!(
                "use `{}64`: a session's size must not depend on the platform",
                &path[..1]
            )),
            ..err(
                format!("unsupported type `{path}`"),
                ty.range.clone(),
                "platform-sized",
            )
        }),
        "i128" | "u128" => Err(TypeError {
            help: Some("use `i64` or `u64`, or a `String`".into()),
            ..err(
                format!("unsupported type `{path}`: JSON numbers hold at most 64 bits"),
                ty.range.clone(),
                "too wide",
            )
        }),
        "char" => Err(TypeError {
            help: Some("use `String` with `max_length = 1`".into()),
            ..err("unsupported type `char`", ty.range.clone(), "not supported")
        }),
        "str" => Err(TypeError {
            help: Some("use `String`".into()),
            ..err(
                "unsupported type `str`",
                ty.range.clone(),
                "not an owned type",
            )
        }),
        name if !name.contains("::") && enums.contains(&name) => {
            arity(0).map(|()| FieldType::Enum(name.to_owned()))
        }
        // A user type by path, generic or not: its arguments are read as types too.
        name if name.contains("::") => Ok(FieldType::Path(render(ty, enums)?)),
        name => {
            let candidates = BUILTIN.iter().copied().chain(enums.iter().copied());
            let help = match suggest::nearest(name, candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "declare it with `[enums.{name}]`, or write a path to your own type such as `crate::types::{name}`"
                ),
            };
            Err(TypeError {
                help: Some(help),
                ..err(
                    format!("unknown type `{name}`"),
                    ty.range.clone(),
                    "unknown type",
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        parse_type(text, &["Role"]).unwrap().to_rust()
    }

    #[test]
    fn reads_rust_types() {
        assert_eq!(ok("u32"), "u32");
        assert_eq!(ok(" Option< Vec<String> > "), "Option<Vec<String>>");
        assert_eq!(ok("HashMap<String, u8>"), "BTreeMap<String, u8>");
        assert_eq!(
            ok("std::collections::BTreeMap<String,Role,>"),
            "BTreeMap<String, Role>"
        );
        assert_eq!(ok("crate::auth::Level"), "crate::auth::Level");
        assert_eq!(
            ok("crate::types::Labelled< Vec<String> , Role>"),
            "crate::types::Labelled<::std::vec::Vec<::std::string::String>, Role>"
        );
        assert!(parse_type("crate::types::Labelled<Strng>", &[]).is_err());
        assert_eq!(ok("std::string::String"), "String");
        assert_eq!(
            parse_type("Role", &["Role"]).unwrap(),
            FieldType::Enum("Role".into())
        );
    }

    #[test]
    fn reports_where_it_went_wrong() {
        let e = parse_type("Vec<Strng>", &[]).unwrap_err();
        assert_eq!(e.message, "unknown type `Strng`");
        assert_eq!(e.range, 4..9);
        assert_eq!(e.help.as_deref(), Some("did you mean `String`?"));
        let e = parse_type("BTreeMap<u32, String>", &[]).unwrap_err();
        assert_eq!(e.range, 9..12);
        let e = parse_type("Vec<u8", &[]).unwrap_err();
        assert_eq!(e.message, "expected `,` or `>`");
        assert!(parse_type("Option<u8, u8>", &[]).is_err());
        assert!(parse_type("&str", &[]).is_err());
        assert!(
            parse_type("usize", &[])
                .unwrap_err()
                .help
                .unwrap()
                .contains("u64")
        );
        assert!(parse_type("Vec<>", &[]).is_err());
        assert!(parse_type("", &[]).is_err());
        assert!(parse_type("u8 u8", &[]).is_err());
    }
}
