//! Stage references and `--target` selection (BuildKit's dispatch:
//! findStateByName / findStateByIndex, stages reached from the target).

use crate::{BaseRef, Dockerfile, Kind, ParseError, Stage, StageError};

pub(crate) fn target_stage(df: &Dockerfile, target: Option<&str>) -> Result<usize, StageError> {
    let Some(target) = target else {
        return Ok(df.stages.len() - 1);
    };
    let lower = target.to_lowercase();
    df.stages
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
        .ok_or_else(|| {
            let names: Vec<&str> = df.stages.iter().filter_map(|s| s.name.as_deref()).collect();
            StageError::TargetNotFound {
                target: target.to_string(),
                names: if names.is_empty() {
                    "(no stage has AS NAME)".to_string()
                } else {
                    names.join(", ")
                },
            }
        })
}

fn by_name(stages: &[Stage], name: &str) -> Option<usize> {
    let lower = name.to_lowercase();
    stages
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
}

pub(crate) fn base_ref(
    stage: &Stage,
    stages: &[Stage],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BaseRef, ParseError> {
    let base = stage
        .base
        .expand(lookup)
        .map_err(|e| ParseError::new(stage.line, format!("FROM {}: {e}", stage.base.raw)))?;
    if base.is_empty() {
        return Err(ParseError::new(
            stage.line,
            format!(
                "base name ({}) should not be blank: expected an image, a stage or scratch",
                stage.base.raw
            ),
        ));
    }
    if base == "scratch" {
        return Ok(BaseRef::Scratch);
    }
    // Only an earlier stage can be a base: a later name is an image.
    match by_name(&stages[..stage.index.min(stages.len())], &base) {
        Some(i) => Ok(BaseRef::Stage(i)),
        None => Ok(BaseRef::Image(base)),
    }
}

/// The stages `stage` depends on directly.
fn deps(
    df: &Dockerfile,
    stage: &Stage,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<usize>, ParseError> {
    let mut out = Vec::new();
    if let BaseRef::Stage(i) = base_ref(stage, &df.stages, lookup)? {
        out.push(i);
    }
    for ins in &stage.instructions {
        let Kind::Copy(c) = &ins.kind else { continue };
        let Some(from) = &c.from else { continue };
        let from = from
            .expand(lookup)
            .map_err(|e| ParseError::new(ins.line, format!("--from={}: {e}", from.raw)))?;
        if let Ok(n) = from.parse::<usize>() {
            if n >= df.stages.len() {
                return Err(ParseError::new(
                    ins.line,
                    format!(
                        "invalid stage index {n}: expected 0 to {}",
                        df.stages.len() - 1
                    ),
                ));
            }
            out.push(n);
        } else if let Some(i) = by_name(&df.stages, &from) {
            out.push(i);
        }
        // Anything else is an image COPY --from pulls.
    }
    Ok(out)
}

pub(crate) fn needed_stages(
    df: &Dockerfile,
    target: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<usize>, StageError> {
    let start = target_stage(df, target)?;
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        None,
        Visiting,
        Done,
    }
    let mut marks = vec![Mark::None; df.stages.len()];
    // Iterative DFS: (stage, its deps, next dep to visit).
    let mut stack: Vec<(usize, Vec<usize>, usize)> = Vec::new();
    marks[start] = Mark::Visiting;
    stack.push((start, deps(df, &df.stages[start], lookup)?, 0));
    while let Some(top) = stack.last_mut() {
        let (s, ref d, ref mut next) = *top;
        if *next == d.len() {
            marks[s] = Mark::Done;
            stack.pop();
            continue;
        }
        let dep = d[*next];
        *next += 1;
        match marks[dep] {
            Mark::Done => {}
            Mark::Visiting => {
                let st = &df.stages[dep];
                let name = st.name.clone().unwrap_or_else(|| dep.to_string());
                return Err(StageError::Parse(ParseError::new(
                    df.stages[s].line,
                    format!("circular dependency detected on stage: {name}"),
                )));
            }
            Mark::None => {
                marks[dep] = Mark::Visiting;
                let dd = deps(df, &df.stages[dep], lookup)?;
                stack.push((dep, dd, 0));
            }
        }
    }
    Ok((0..df.stages.len())
        .filter(|&i| marks[i] == Mark::Done)
        .collect())
}
