//! Spec enums: Rust type names, variants stored by name.

use std::collections::BTreeSet;

use crate::diagnostic::Diagnostic;

use super::{BUILTIN_TYPE_NAMES, Cx, is_upper_camel_case};

impl Cx<'_> {
    /// Spec enums become Rust enums whose variants are stored by name.
    pub(super) fn check_enums(&mut self) {
        let mut seen = BTreeSet::new();
        for e in &self.schema.enums {
            if !is_upper_camel_case(&e.name) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid enum name `{}`: expected an UpperCamelCase Rust type name",
                            e.name
                        ),
                        e.origin.clone(),
                    )
                    .with_label("not a type name"),
                );
            }
            if !seen.insert(e.name.as_str()) {
                self.push(Diagnostic::error(
                    format!("enum `{}` is declared twice", e.name),
                    e.origin.clone(),
                ));
            }
            // The generated module also holds the session type, its `...Ext` trait and
            // uses the standard types by these names.
            if BUILTIN_TYPE_NAMES.contains(&e.name.as_str())
                || e.name == format!("{}Ext", self.schema.name)
            {
                self.push(
                    Diagnostic::error(
                        format!(
                            "enum name `{}` is taken by a type the generated code uses",
                            e.name
                        ),
                        e.origin.clone(),
                    )
                    .with_label("reserved name")
                    .with_help("pick another name; the stored variant names do not change"),
                );
            }
            if e.name == self.schema.name {
                self.push(
                    Diagnostic::error(
                        format!("enum `{}` has the session's own name", e.name),
                        e.origin.clone(),
                    )
                    .with_help("both become Rust types in one module: rename one of them"),
                );
            }
            if e.variants.is_empty() {
                self.push(
                    Diagnostic::error(
                        format!("enum `{}` has no variants", e.name),
                        e.origin.clone(),
                    )
                    .with_help("list them: `variants = [\"user\", \"admin\"]`"),
                );
            }
            let mut names = BTreeSet::new();
            let mut keys = BTreeSet::new();
            for v in &e.variants {
                if !is_upper_camel_case(&v.name) {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "invalid variant name `{}` in enum `{}`: expected an UpperCamelCase Rust identifier",
                                v.name, e.name
                            ),
                            v.origin.clone(),
                        )
                        .with_help("give the variant a Rust name with the table form: `{ name = \"Admin\", key = \"admin\" }`"),
                    );
                }
                if !names.insert(v.name.as_str()) {
                    self.push(Diagnostic::error(
                        format!("variant `{}` appears twice in enum `{}`", v.name, e.name),
                        v.origin.clone(),
                    ));
                } else if !keys.insert(v.key.as_str()) {
                    self.push(Diagnostic::error(
                        format!(
                            "two variants of enum `{}` are stored as `{}`",
                            e.name, v.key
                        ),
                        v.origin.clone(),
                    ));
                }
            }
        }
    }
}
