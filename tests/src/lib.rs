//! Cross-crate tests live in `tests/tests/`. This library holds what the specs of
//! `tests/specs/` refer to by path (custom validators and user types), and the generated
//! code of every template compiled as a library's public API, where `missing_docs` and
//! every other warning are errors.
#![deny(missing_docs, warnings)]

/// The generated code of each template in `templates/`, as public modules of a library.
pub mod templates {
    /// `templates/minimal.toml`.
    pub mod minimal {
        include!(concat!(env!("OUT_DIR"), "/minimal.rs"));
    }
    /// `templates/auth.toml`.
    pub mod auth {
        include!(concat!(env!("OUT_DIR"), "/auth.rs"));
    }
    /// `templates/cart.toml`.
    pub mod cart {
        include!(concat!(env!("OUT_DIR"), "/cart.rs"));
    }
    /// `templates/csrf-flash.toml`.
    pub mod csrf_flash {
        include!(concat!(env!("OUT_DIR"), "/csrf_flash.rs"));
    }
}

/// User types that spec fields refer to by path.
pub mod types {
    use serde::{Deserialize, Serialize};

    /// A point, stored as `{"x": .., "y": ..}`.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Point {
        /// Horizontal.
        pub x: f64,
        /// Vertical.
        pub y: f64,
    }

    /// A generic serde type, named by path in a spec with its argument.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Labelled<T> {
        /// The label.
        pub label: String,
        /// The value.
        pub value: T,
    }
}

/// Custom validators (`fn(&T) -> Result<(), String>`) that spec fields refer to by path.
pub mod validators {
    use crate::types::Point;

    /// Accepts even numbers.
    ///
    /// # Errors
    /// An odd number.
    pub fn even(value: &i64) -> Result<(), String> {
        if value % 2 == 0 {
            Ok(())
        } else {
            Err(format!("expected an even number, got {value}"))
        }
    }

    /// Accepts a token of 16 to 64 characters (the shop spec's `csrf_token`).
    ///
    /// # Errors
    /// A shorter or longer token.
    #[allow(clippy::ptr_arg)]
    pub fn token(value: &String) -> Result<(), String> {
        if (16..=64).contains(&value.chars().count()) {
            Ok(())
        } else {
            Err(format!(
                "a token has 16 to 64 characters, not {}",
                value.chars().count()
            ))
        }
    }

    /// Accepts points in the unit square.
    ///
    /// # Errors
    /// A point outside `[0, 1] x [0, 1]`.
    pub fn in_unit_square(p: &Point) -> Result<(), String> {
        if (0.0..=1.0).contains(&p.x) && (0.0..=1.0).contains(&p.y) {
            Ok(())
        } else {
            Err(format!(
                "expected a point in the unit square, got ({}, {})",
                p.x, p.y
            ))
        }
    }
}
