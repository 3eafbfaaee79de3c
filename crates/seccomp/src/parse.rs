//! Field-named errors for profiles that oci-spec cannot even represent.
//!
//! `LinuxSeccomp` holds actions, architectures, operators and flags as enums, so a spec with
//! `"SCMP_ACT_FOO"` fails to deserialize as a whole with serde's "unknown variant" message and
//! a line number, before [`crate::validate`] can see it. When that happens the runtime can
//! hand the raw `linux.seccomp` value to [`parse`] to learn which field is wrong.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
    LinuxSyscall,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{invalid, Result};

/// Parses a raw `linux.seccomp` object, naming the first bad field, e.g.
/// `seccomp: syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
pub fn parse(value: &Value) -> Result<LinuxSeccomp> {
    let Some(object) = value.as_object() else {
        return Err(invalid("linux.seccomp", "expected an object"));
    };
    if let Some(v) = object.get("defaultAction") {
        check::<LinuxSeccompAction>(v, "defaultAction", "action")?;
    }
    for (i, v) in items(object.get("architectures")) {
        check::<Arch>(v, &format!("architectures[{i}]"), "architecture")?;
    }
    for (i, v) in items(object.get("flags")) {
        check::<LinuxSeccompFilterFlag>(v, &format!("flags[{i}]"), "flag")?;
    }
    for (i, call) in items(object.get("syscalls")) {
        let field = format!("syscalls[{i}]");
        if let Some(v) = call.get("action") {
            check::<LinuxSeccompAction>(v, &format!("{field}.action"), "action")?;
        }
        for (j, arg) in items(call.get("args")) {
            if let Some(v) = arg.get("op") {
                check::<LinuxSeccompOperator>(v, &format!("{field}.args[{j}].op"), "operator")?;
            }
        }
        // Whatever else is wrong in this entry (missing names, a string where a number
        // belongs) still gets its index.
        decode::<LinuxSyscall>(call, &field)?;
    }
    decode(value, "linux.seccomp")
}

fn items(value: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// `kind` names the value in the message: `unknown {kind} "..."`.
fn check<T: DeserializeOwned>(value: &Value, field: &str, kind: &str) -> Result<()> {
    match (decode::<T>(value, field), value) {
        (Ok(_), _) => Ok(()),
        (Err(_), Value::String(s)) => Err(invalid(field, format!("unknown {kind} {s:?}"))),
        (Err(e), _) => Err(e),
    }
}

fn decode<T: DeserializeOwned>(value: &Value, field: &str) -> Result<T> {
    T::deserialize(value).map_err(|e| invalid(field, e.to_string()))
}
