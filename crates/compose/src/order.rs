//! Which services a command acts on (profiles, explicitly named services
//! and their dependencies) and the order to start them in.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Project, Service};
use crate::Error;

impl Project {
    /// Whether `service` is enabled by the project's active profiles.
    pub fn is_active(&self, service: &Service) -> bool {
        service.enabled_by(&self.profiles)
    }

    /// The services the active profiles enable, by name.
    pub fn active_services(&self) -> impl Iterator<Item = &Service> {
        self.services.values().filter(|s| self.is_active(s))
    }

    /// The services a command acts on, sorted by name: with no names, the
    /// active services; with names, those services (whatever their
    /// profiles: naming a service enables its profiles, as docker compose
    /// does). Either way plus their `depends_on` closure.
    ///
    /// Errors on a name the project does not define, and on a required
    /// dependency that is undefined or disabled by its profiles.
    pub fn services_for<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<&Service>, Error> {
        let mut profiles = self.profiles.clone();
        let mut queue: Vec<&Service> = Vec::new();
        if names.is_empty() {
            queue.extend(self.active_services());
        }
        for name in names {
            let name = name.as_ref();
            let service = self
                .services
                .get(name)
                .ok_or_else(|| Error::UnknownService {
                    name: name.to_string(),
                    known: self.services.keys().cloned().collect::<Vec<_>>().join(", "),
                })?;
            profiles.extend(service.profiles.iter().cloned());
            queue.push(service);
        }
        let mut selected: BTreeMap<&str, &Service> = BTreeMap::new();
        while let Some(service) = queue.pop() {
            if selected.insert(&service.name, service).is_some() {
                continue;
            }
            for (dep, how) in &service.depends_on {
                match self.services.get(dep) {
                    Some(d) if d.enabled_by(&profiles) => queue.push(d),
                    Some(d) if how.required => {
                        return Err(Error::DisabledDependency {
                            service: service.name.clone(),
                            dependency: dep.clone(),
                            profiles: d.profiles.clone(),
                        })
                    }
                    None if how.required => {
                        return Err(Error::UnknownDependency {
                            service: service.name.clone(),
                            dependency: dep.clone(),
                        })
                    }
                    // Optional and unavailable: started without it.
                    Some(_) | None => {}
                }
            }
        }
        Ok(selected.into_values().collect())
    }

    /// The names of [`Project::services_for`]`(selected)` in start order:
    /// every service after the services it depends on, ties broken by name
    /// so the order is the same every time. Stop in the reverse order.
    ///
    /// Errors as `services_for` does, and on a dependency cycle, which the
    /// error spells out (`a -> b -> a`, "a depends on b").
    pub fn start_order<S: AsRef<str>>(&self, selected: &[S]) -> Result<Vec<String>, Error> {
        let services = self.services_for(selected)?;
        let names: BTreeSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
        // Dependencies within the selection not yet started, per service.
        let mut waiting: BTreeMap<&str, BTreeSet<&str>> = services
            .iter()
            .map(|s| {
                let deps = s
                    .depends_on
                    .keys()
                    .map(String::as_str)
                    .filter(|d| names.contains(d))
                    .collect();
                (s.name.as_str(), deps)
            })
            .collect();
        let mut order = Vec::with_capacity(services.len());
        loop {
            let ready = waiting
                .iter()
                .find(|(_, deps)| deps.is_empty())
                .map(|(name, _)| *name);
            let Some(next) = ready else { break };
            waiting.remove(next);
            for deps in waiting.values_mut() {
                deps.remove(next);
            }
            order.push(next.to_string());
        }
        if waiting.is_empty() {
            Ok(order)
        } else {
            Err(Error::Cycle {
                cycle: find_cycle(&waiting),
            })
        }
    }
}

/// A cycle among services that all still wait on each other: follow the
/// first dependency from the first service until a service repeats, then
/// start the cycle at its smallest name.
fn find_cycle(waiting: &BTreeMap<&str, BTreeSet<&str>>) -> String {
    let mut path: Vec<&str> = Vec::new();
    let mut current = waiting.keys().next().copied();
    while let Some(name) = current {
        if let Some(start) = path.iter().position(|n| *n == name) {
            let mut cycle = path.split_off(start);
            let smallest = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| **n)
                .map(|(i, _)| i)
                .unwrap_or(0);
            cycle.rotate_left(smallest);
            if let Some(&first) = cycle.first() {
                cycle.push(first);
            }
            return cycle.join(" -> ");
        }
        path.push(name);
        current = waiting
            .get(name)
            .and_then(|deps| deps.iter().next().copied());
    }
    // Unreachable while every waiting service waits on another; say what is known.
    path.join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dependency;

    /// `specs`: (name, profiles, dependencies; a `?` suffix marks an optional one).
    fn project(specs: &[(&str, &[&str], &[&str])], active: &[&str]) -> Project {
        let services = specs
            .iter()
            .map(|(name, profiles, deps)| {
                let depends_on = deps
                    .iter()
                    .map(|d| match d.strip_suffix('?') {
                        Some(d) => (
                            d.to_string(),
                            Dependency {
                                required: false,
                                ..Dependency::default()
                            },
                        ),
                        None => (d.to_string(), Dependency::default()),
                    })
                    .collect();
                let s = Service {
                    name: name.to_string(),
                    image: Some("x".into()),
                    profiles: profiles.iter().map(|p| p.to_string()).collect(),
                    depends_on,
                    ..Service::default()
                };
                (name.to_string(), s)
            })
            .collect();
        Project {
            name: "p".into(),
            project_dir: "/p".into(),
            files: vec![],
            services,
            networks: BTreeMap::new(),
            volumes: BTreeMap::new(),
            profiles: active.iter().map(|p| p.to_string()).collect(),
            warnings: vec![],
        }
    }

    fn names(v: Vec<&Service>) -> Vec<&str> {
        v.into_iter().map(|s| s.name.as_str()).collect()
    }

    const NONE: &[&str] = &[];

    #[test]
    fn start_order_is_topological_with_ties_by_name() {
        let p = project(
            &[
                ("web", NONE, &["app", "cache"]),
                ("app", NONE, &["db"]),
                ("db", NONE, NONE),
                ("cache", NONE, NONE),
                ("zz", NONE, NONE),
            ],
            NONE,
        );
        assert_eq!(
            p.start_order(NONE).unwrap(),
            ["cache", "db", "app", "web", "zz"]
        );
        assert_eq!(p.start_order(&["app"]).unwrap(), ["db", "app"]);
        assert_eq!(
            p.start_order(&["web".to_string()]).unwrap(),
            ["cache", "db", "app", "web"]
        );
    }

    #[test]
    fn cycles_are_named() {
        let p = project(
            &[("a", NONE, &["b"]), ("b", NONE, &["a"]), ("c", NONE, NONE)],
            NONE,
        );
        let err = p.start_order(NONE).unwrap_err().to_string();
        assert_eq!(err, "dependency cycle between services: a -> b -> a: remove one of these depends_on entries");
        let p = project(
            &[
                ("x", NONE, &["c"]),
                ("c", NONE, &["d"]),
                ("d", NONE, &["e"]),
                ("e", NONE, &["c"]),
            ],
            NONE,
        );
        let err = p.start_order(&["x"]).unwrap_err().to_string();
        assert!(err.contains(": c -> d -> e -> c:"), "{err}");
        let p = project(&[("self", NONE, &["self"])], NONE);
        assert!(p
            .start_order(NONE)
            .unwrap_err()
            .to_string()
            .contains("self -> self"));
    }

    #[test]
    fn profiles_select_services() {
        let specs: &[(&str, &[&str], &[&str])] = &[
            ("web", NONE, &["db"]),
            ("db", NONE, NONE),
            ("job", &["tools"], &["db"]),
            ("debug", &["debug", "tools"], NONE),
        ];
        let p = project(specs, NONE);
        assert_eq!(names(p.services_for(NONE).unwrap()), ["db", "web"]);
        assert!(!p.is_active(&p.services["job"]));
        let p = project(specs, &["tools"]);
        assert_eq!(
            names(p.services_for(NONE).unwrap()),
            ["db", "debug", "job", "web"]
        );
        let p = project(specs, &["*"]);
        assert_eq!(
            names(p.services_for(NONE).unwrap()),
            ["db", "debug", "job", "web"]
        );
    }

    #[test]
    fn naming_a_service_enables_it_and_its_dependencies() {
        let specs: &[(&str, &[&str], &[&str])] = &[
            ("db", &["dev"], NONE),
            ("mock", &["dev"], &["db"]),
            ("admin", &["debug"], &["db"]),
            ("opt", NONE, &["db?"]),
            ("job", &["tools"], &["web"]),
            ("web", NONE, NONE),
        ];
        let p = project(specs, NONE);
        assert_eq!(names(p.services_for(&["job"]).unwrap()), ["job", "web"]);
        assert_eq!(names(p.services_for(&["mock"]).unwrap()), ["db", "mock"]);
        assert_eq!(p.start_order(&["mock"]).unwrap(), ["db", "mock"]);
        let err = p.services_for(&["admin"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "service \"admin\" depends on \"db\", which is disabled by its profiles [dev]: pass --profile dev or name \"db\" too"
        );
        assert_eq!(
            names(p.services_for(&["admin", "db"]).unwrap()),
            ["admin", "db"]
        );
        // An optional dependency that is disabled is left out.
        assert_eq!(names(p.services_for(&["opt"]).unwrap()), ["opt"]);
        assert_eq!(names(p.services_for(NONE).unwrap()), ["opt", "web"]);
    }

    #[test]
    fn unknown_names() {
        let mut p = project(&[("web", NONE, NONE), ("db", NONE, NONE)], NONE);
        let err = p.services_for(&["nope"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "no such service: \"nope\": the project's services are db, web"
        );
        p.services
            .get_mut("web")
            .unwrap()
            .depends_on
            .insert("ghost".into(), Dependency::default());
        let err = p.start_order(NONE).unwrap_err().to_string();
        assert_eq!(err, "service \"web\" depends on undefined service \"ghost\": define it or remove it from depends_on");
    }
}
