//! The few calls of systemd's D-Bus API the driver needs, over rustbus: a synchronous
//! client that starts no thread (the runtime forks containers, so no async executor).

use std::time::{Duration, Instant};

use rustbus::connection::Timeout;
use rustbus::message_builder::{MarshalledMessage, MessageBuilder};
use rustbus::wire::ObjectPath;
use rustbus::{standard_messages, MessageType, RpcConn};

use super::properties::Prop;
use crate::error::{Error, Result};

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// runc waits 30 s for a unit job; systemd answers in milliseconds unless it is wedged.
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Bus {
    conn: RpcConn,
}

fn err(what: &str, e: impl std::fmt::Debug) -> Error {
    Error::Systemd {
        reason: format!("{what}: {e:?}"),
    }
}

fn call(method: &str) -> MarshalledMessage {
    MessageBuilder::new()
        .call(method)
        .with_interface(MANAGER)
        .on(PATH)
        .at(DEST)
        .build()
}

impl Bus {
    /// Connects to the system bus and subscribes to systemd's job signals (systemd sends
    /// JobRemoved only to subscribed clients).
    pub(crate) fn system() -> Result<Bus> {
        let timeout = Timeout::Duration(JOB_TIMEOUT);
        let conn = RpcConn::system_conn(timeout).map_err(|e| {
            err(
                "connect to the system bus (/run/dbus/system_bus_socket; is dbus running?)",
                e,
            )
        })?;
        let mut bus = Bus { conn };
        let rule = format!(
            "type='signal',sender='{DEST}',path='{PATH}',interface='{MANAGER}',member='JobRemoved'"
        );
        bus.send("AddMatch", standard_messages::add_match(&rule))?;
        bus.send("Subscribe", call("Subscribe"))?;
        Ok(bus)
    }

    /// Sends one call and waits for its reply; an error reply becomes an error naming the
    /// call and systemd's message.
    fn send(&mut self, what: &str, mut msg: MarshalledMessage) -> Result<MarshalledMessage> {
        let serial = self
            .conn
            .send_message(&mut msg)
            .map_err(|e| err(what, e))?
            .write_all()
            .map_err(|e| err(what, e.1))?;
        let reply = self
            .conn
            .wait_response(serial, Timeout::Duration(JOB_TIMEOUT))
            .map_err(|e| err(what, e))?;
        if reply.typ == MessageType::Error {
            let name = reply.dynheader.error_name.clone().unwrap_or_default();
            let text: String = reply.body.parser().get().unwrap_or_default();
            return Err(Error::Systemd {
                reason: format!("{what}: {name}: {text}"),
            });
        }
        Ok(reply)
    }

    /// Waits for the JobRemoved signal of `job`; any result but "done" is an error.
    fn wait_job(&mut self, what: &str, job: &str) -> Result<()> {
        let deadline = Instant::now() + JOB_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Systemd {
                    reason: format!("{what}: no answer from systemd in {JOB_TIMEOUT:?}"),
                });
            }
            let sig = self
                .conn
                .wait_signal(Timeout::Duration(left))
                .map_err(|e| err(what, e))?;
            if sig.dynheader.member.as_deref() != Some("JobRemoved") {
                continue;
            }
            let Ok((_id, path, unit, result)) = sig
                .body
                .parser()
                .get4::<u32, ObjectPath<String>, String, String>()
            else {
                continue;
            };
            if path.as_ref() != job {
                continue;
            }
            return match result.as_str() {
                "done" => Ok(()),
                r => Err(Error::Systemd {
                    reason: format!(
                        "{what}: systemd's job for {unit} ended {r:?} \
                         (journalctl -u {unit} says why)"
                    ),
                }),
            };
        }
    }

    /// StartTransientUnit of `unit` in `slice` holding `pid`, with delegation so the
    /// runtime may write the cgroup files, and waits until systemd has moved the pid.
    pub(crate) fn start_scope(
        &mut self,
        unit: &str,
        slice: &str,
        pid: u32,
        limits: Vec<(String, Prop)>,
    ) -> Result<()> {
        let what = format!("start transient unit {unit}");
        let mut props: Vec<(String, Prop)> = vec![
            (
                "Description".into(),
                Prop::Str(format!("husk container {unit}")),
            ),
            ("PIDs".into(), Prop::Pids(vec![pid])),
            ("Delegate".into(), Prop::Bool(true)),
            ("DefaultDependencies".into(), Prop::Bool(false)),
            ("MemoryAccounting".into(), Prop::Bool(true)),
            ("CPUAccounting".into(), Prop::Bool(true)),
            ("TasksAccounting".into(), Prop::Bool(true)),
        ];
        if !unit.ends_with(".slice") {
            props.push(("Slice".into(), Prop::Str(slice.to_string())));
        }
        props.extend(limits);
        let mut msg = call("StartTransientUnit");
        let aux: Vec<(String, Vec<(String, Prop)>)> = Vec::new();
        msg.body
            .push_param2(unit, "fail")
            .and_then(|()| msg.body.push_param2(props, aux))
            .map_err(|e| err(&what, e))?;
        let reply = self.send(&what, msg)?;
        let job: ObjectPath<String> = reply.body.parser().get().map_err(|e| err(&what, e))?;
        self.wait_job(&what, job.as_ref())
    }

    /// SetUnitProperties at runtime (`update`), so a daemon-reload keeps the new limits.
    pub(crate) fn set_properties(&mut self, unit: &str, props: Vec<(String, Prop)>) -> Result<()> {
        if props.is_empty() {
            return Ok(());
        }
        let what = format!("set properties of {unit}");
        let mut msg = call("SetUnitProperties");
        msg.body
            .push_param3(unit, true, props)
            .map_err(|e| err(&what, e))?;
        self.send(&what, msg).map(|_| ())
    }

    /// StopUnit and waits for it; a unit systemd does not know is already stopped.
    pub(crate) fn stop_unit(&mut self, unit: &str) -> Result<()> {
        let what = format!("stop unit {unit}");
        let mut msg = call("StopUnit");
        msg.body
            .push_param2(unit, "replace")
            .map_err(|e| err(&what, e))?;
        let reply = match self.send(&what, msg) {
            Ok(r) => r,
            Err(Error::Systemd { reason }) if reason.contains("NoSuchUnit") => return Ok(()),
            Err(e) => return Err(e),
        };
        let job: ObjectPath<String> = reply.body.parser().get().map_err(|e| err(&what, e))?;
        self.wait_job(&what, job.as_ref())?;
        // A scope whose processes were killed ends "failed"; forget that so the name can
        // be used again.
        let mut reset = call("ResetFailedUnit");
        if reset.body.push_param(unit).is_ok() {
            let _ = self.send("reset failed unit", reset);
        }
        Ok(())
    }
}
