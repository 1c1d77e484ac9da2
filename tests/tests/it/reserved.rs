//! The reserved field names against the real session handle, checked by the compiler
//! instead of by reading the runtime's source text: `handle_probe.rs` (written by this
//! crate's build script from the validator's one table of generated names,
//! `session_spec::validate::accessor_names`, for every field of every template and test
//! spec) declares a trait method for each generated accessor name and calls each one on a
//! `Session<Dynamic>` expecting the probe's own type. An inherent method of the handle, or
//! a prelude trait's method, of the same name would be picked instead (or be ambiguous),
//! and this module would not compile.

#[allow(unreachable_pub)]
mod probe {
    include!(concat!(env!("OUT_DIR"), "/handle_probe.rs"));
}

use session_runtime::{Dynamic, Session};
use session_spec::validate::RESERVED_FIELD_NAMES;

#[test]
fn no_generated_accessor_is_taken_by_the_session_handle() {
    probe::call_every_probe(&Session::<Dynamic>::detached());
    // The probe covers every kind of generated method: getters, setters, removers and
    // the helpers of lists, maps and sets.
    for expected in [
        "cart",
        "set_cart",
        "remove_cart",
        "push_cart",
        "clear_cart",
        "insert_quantities",
        "remove_quantities_entry",
        "insert_tags",
        "remove_tags_item",
        "contains_tags",
    ] {
        assert!(
            probe::PROBED.contains(&expected),
            "`{expected}` is not probed: {:?}",
            probe::PROBED
        );
    }
    // A reserved name is never generated (the validator refuses such a field), so the
    // probe cannot pass by accident of a reserved name left out.
    for name in probe::PROBED {
        assert!(!RESERVED_FIELD_NAMES.contains(name), "{name}");
    }
}
