//! `ports:` (short and long syntax) and `expose:`.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::values::scalar;
use super::Cx;
use crate::port::{parse_short_port, ExposedPort, Port, PortRange, Protocol, PORT_HINT};
use crate::Error;

pub(super) fn parse_ports(cx: &mut Cx, v: &Value, path: &str) -> Result<Vec<Port>, Error> {
    let mut ports = Vec::new();
    for (i, item) in cx.list(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        match item {
            Value::Object(map) => ports.push(long_port(cx, map, &p)?),
            Value::String(_) | Value::Number(_) => {
                let spec = scalar(item).unwrap_or_default();
                ports.extend(parse_short_port(&spec).map_err(|m| cx.invalid(&p, Some(item), m))?);
            }
            item => {
                return Err(cx.wrong_kind(
                    &p,
                    item,
                    &format!("a string or a mapping with target: ({PORT_HINT})"),
                ))
            }
        }
    }
    Ok(ports)
}

fn long_port(cx: &mut Cx, map: &Map<String, Value>, path: &str) -> Result<Port, Error> {
    let mut port = Port {
        target: 0,
        published: None,
        host_ip: None,
        protocol: Protocol::Tcp,
        mode: None,
        name: None,
        app_protocol: None,
    };
    let mut target = None;
    for (key, v) in map {
        let p = format!("{path}.{key}");
        let p = p.as_str();
        match key.as_str() {
            "target" => target = Some(cx.uint::<u16>(v, p)?),
            "published" => {
                let text = cx.string(v, p)?;
                if !text.is_empty() {
                    port.published = Some(PortRange::parse(&text).map_err(|m| {
                        cx.invalid(
                            p,
                            Some(v),
                            format!("{m}: write a host port or range, e.g. 8080 or 8000-8010"),
                        )
                    })?);
                }
            }
            "host_ip" => {
                let text = cx.string(v, p)?;
                port.host_ip = Some(text.parse::<IpAddr>().map_err(|_| {
                    cx.invalid(p, Some(v), "not an IP address: write e.g. 127.0.0.1 or ::1")
                })?);
            }
            "protocol" => {
                let text = cx.string(v, p)?;
                port.protocol = Protocol::parse(&text).map_err(|m| cx.invalid(p, Some(v), m))?;
            }
            "mode" => {
                let mode = cx.string(v, p)?;
                if mode != "host" && mode != "ingress" {
                    return Err(cx.invalid(p, Some(v), "unknown port mode: use host or ingress"));
                }
                port.mode = Some(mode);
            }
            "name" => port.name = Some(cx.string(v, p)?),
            "app_protocol" => port.app_protocol = Some(cx.string(v, p)?),
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(p),
        }
    }
    match target {
        Some(0) | None => {
            Err(cx.invalid(path, None, "no container port: add target: PORT (1-65535)"))
        }
        Some(t) => {
            port.target = t;
            Ok(port)
        }
    }
}

pub(super) fn parse_expose(cx: &mut Cx, v: &Value, path: &str) -> Result<Vec<ExposedPort>, Error> {
    let mut out = Vec::new();
    for (i, item) in cx.list(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let text = cx.string(item, &p)?;
        out.push(ExposedPort::parse(&text).map_err(|m| {
            cx.invalid(
                &p,
                Some(item),
                format!("{m}: write PORT[/PROTO] or START-END[/PROTO]"),
            )
        })?);
    }
    Ok(out)
}
