//! The receiver's answer for each entry of an accepted offer: what is already on disk
//! decides between send, skip, resume and refuse.
//!
//! Planning only looks (stat, and hashing of part files and, for `--skip-identical`,
//! same-sized files); folders are created afterwards by [`create_folders`], once the
//! free-space check has passed, so a refused offer leaves no trace.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::fs::{self, Existing, Place, Root};
use super::paths::escape;
use super::proto::{Answer, Digest, Kind, Offer};
use super::report::{Phase, ProgressFn};
use crate::event::{Event, Events};

/// What to do when a file of the same name is already in the target folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExisting {
    /// Leave it, refuse that entry with a message, carry on with the rest (default).
    #[default]
    Refuse,
    /// Replace it (atomically, after verification).
    Overwrite,
    /// Store the new one as `NAME (1).EXT`.
    Rename,
    /// Skip that entry.
    Skip,
}

/// The plan for one entry.
#[derive(Debug)]
pub struct Planned {
    /// The answer the sender gets.
    pub answer: Answer,
    /// How a verified file takes its name.
    pub place: Place,
    /// For a resume: the hasher after the part's prefix, to continue with the rest.
    pub prefix: Option<Box<blake3::Hasher>>,
    /// A folder this session created (its mode and mtime are set at the end).
    pub created: bool,
}

/// The plan for a whole offer.
#[derive(Debug, Default)]
pub struct Plan {
    /// One per entry, in manifest order.
    pub entries: Vec<Planned>,
    /// File bytes still to come (what must fit on the disk).
    pub needed: u64,
}

/// Options that shape the plan.
#[derive(Clone)]
pub struct PlanOptions {
    /// What to do with existing files.
    pub existing: OnExisting,
    /// Skip files that are already there with the same content.
    pub skip_identical: bool,
    /// Answer "resume" for part files.
    pub resume: bool,
    /// Where events go.
    pub events: Events,
    /// Hashing progress.
    pub progress: Option<ProgressFn>,
}

/// Decides every entry's answer by looking at the disk.
pub fn make(root: &Root, offer: &Offer, opts: &PlanOptions) -> std::io::Result<Plan> {
    let mut plan = Plan {
        entries: Vec::with_capacity(offer.entries.len()),
        needed: 0,
    };
    // Folders that cannot be made (a file is in their way): everything below is refused.
    let mut blocked: Vec<&[String]> = Vec::new();
    let mut cache: Option<(Vec<String>, Option<OwnedFd>)> = None;
    for e in &offer.entries {
        let (name, parent) = match e.path.split_last() {
            Some(x) => x,
            None => continue,
        };
        let shown = escape(&e.display_path());
        let mut planned = Planned {
            answer: Answer::Refuse,
            place: Place::NoReplace,
            prefix: None,
            created: false,
        };
        if blocked.iter().any(|b| e.path.starts_with(b)) {
            plan.entries.push(planned);
            continue;
        }
        if cache.as_ref().map(|(p, _)| p.as_slice()) != Some(parent) {
            // A parent that does not exist yet will be created: nothing below it exists.
            cache = Some((parent.to_vec(), root.open_dir(parent).ok()));
        }
        let existing = match cache.as_ref().and_then(|(_, fd)| fd.as_ref()) {
            Some(dir) => fs::stat(dir, name)?,
            None => Existing::Nothing,
        };
        match e.kind {
            Kind::Folder => match existing {
                Existing::Nothing | Existing::Folder => planned.answer = Answer::Send,
                _ => {
                    opts.events.emit(
                        Event::warn("refused-entry", format!("{shown}: a file is in the way of this folder; refused with everything in it"))
                            .with("path", shown.as_str()),
                    );
                    blocked.push(&e.path);
                }
            },
            Kind::Symlink => {
                planned.answer = match (existing, opts.existing) {
                    (Existing::Nothing, _) => Answer::Send,
                    (Existing::Folder, _) => Answer::Refuse,
                    (_, OnExisting::Skip) => Answer::Skip,
                    (_, OnExisting::Overwrite) => Answer::Send,
                    _ => Answer::Refuse,
                };
                if planned.answer == Answer::Refuse {
                    refused(&opts.events, &shown);
                }
            }
            Kind::File => {
                let dir = cache.as_ref().and_then(|(_, fd)| fd.as_ref());
                plan_file(dir, name, e.size, existing, opts, &shown, &mut planned)?;
                plan.needed += match planned.answer {
                    Answer::Send | Answer::Same { send: true, .. } => e.size,
                    Answer::Resume { offset, .. } => e.size - offset,
                    _ => 0,
                };
            }
        }
        plan.entries.push(planned);
    }
    Ok(plan)
}

fn refused(events: &Events, shown: &str) {
    events.emit(
        Event::warn(
            "refused-entry",
            format!(
                "{shown}: already exists, not replaced (--overwrite, --rename or --skip-existing)"
            ),
        )
        .with("path", shown),
    );
}

fn plan_file(
    dir: Option<&OwnedFd>,
    name: &str,
    size: u64,
    existing: Existing,
    opts: &PlanOptions,
    shown: &str,
    planned: &mut Planned,
) -> std::io::Result<()> {
    let writable = match existing {
        Existing::Nothing => {
            planned.place = Place::NoReplace;
            true
        }
        Existing::Folder | Existing::Other => {
            opts.events.emit(
                Event::warn(
                    "refused-entry",
                    format!("{shown}: something that is not a file is in the way; refused"),
                )
                .with("path", shown),
            );
            planned.answer = Answer::Refuse;
            return Ok(());
        }
        Existing::File(have) => {
            if opts.skip_identical && have == size {
                if let Some(hash) = dir.and_then(|d| hash_existing(d, name, size, opts, shown)) {
                    let send = matches!(opts.existing, OnExisting::Overwrite | OnExisting::Rename);
                    planned.place = if opts.existing == OnExisting::Rename {
                        Place::Numbered
                    } else {
                        Place::Replace
                    };
                    planned.answer = Answer::Same { hash, send };
                    return Ok(());
                }
            }
            match opts.existing {
                OnExisting::Overwrite => planned.place = Place::Replace,
                OnExisting::Rename => planned.place = Place::Numbered,
                OnExisting::Skip => {
                    planned.answer = Answer::Skip;
                    return Ok(());
                }
                OnExisting::Refuse => {
                    refused(&opts.events, shown);
                    planned.answer = Answer::Refuse;
                    return Ok(());
                }
            }
            true
        }
    };
    debug_assert!(writable);
    planned.answer = Answer::Send;
    if !opts.resume {
        return Ok(());
    }
    let Some(dir) = dir else { return Ok(()) };
    let part = fs::part_name(name);
    if let Existing::File(have) = fs::stat(dir, &part)? {
        if have > 0 && have <= size {
            let file = fs::open_existing(dir, &part)?;
            let mut hasher = blake3::Hasher::new();
            if hash_with_progress(&file, have, &mut hasher, opts, shown).is_ok() {
                planned.answer = Answer::Resume {
                    offset: have,
                    hash: *hasher.clone().finalize().as_bytes(),
                };
                planned.prefix = Some(Box::new(hasher));
            }
        }
    }
    Ok(())
}

fn hash_existing(
    dir: &OwnedFd,
    name: &str,
    size: u64,
    opts: &PlanOptions,
    shown: &str,
) -> Option<Digest> {
    let file = fs::open_existing(dir, name).ok()?;
    let mut hasher = blake3::Hasher::new();
    hash_with_progress(&file, size, &mut hasher, opts, shown).ok()?;
    Some(*hasher.finalize().as_bytes())
}

fn hash_with_progress(
    file: &std::fs::File,
    len: u64,
    hasher: &mut blake3::Hasher,
    opts: &PlanOptions,
    shown: &str,
) -> std::io::Result<()> {
    let mut last = Instant::now();
    fs::hash_prefix(file, len, hasher, |done| {
        if last.elapsed() >= Duration::from_millis(100) {
            last = Instant::now();
            super::send::tick_with(&opts.progress, Phase::Hashing, done, len, Some(shown));
        }
    })
}

/// Creates the offer's folders (after the offer was accepted and the space checked).
/// A folder that cannot be made turns its entry and everything below it into refusals.
pub fn create_folders(root: &Root, offer: &Offer, plan: &mut Plan, events: &Events) {
    let mut failed: Vec<Vec<String>> = Vec::new();
    for (e, p) in offer.entries.iter().zip(plan.entries.iter_mut()) {
        if failed.iter().any(|f| e.path.starts_with(f)) {
            if p.answer != Answer::Refuse {
                p.answer = Answer::Refuse;
            }
            continue;
        }
        if e.kind != Kind::Folder || p.answer != Answer::Send {
            continue;
        }
        match root.make_dir(&e.path) {
            Ok(created) => p.created = created,
            Err(err) => {
                let shown = escape(&e.display_path());
                events.emit(
                    Event::warn(
                        "refused-entry",
                        format!(
                            "{shown}: cannot create the folder: {}",
                            crate::net::error::describe(&err)
                        ),
                    )
                    .with("path", shown.as_str()),
                );
                p.answer = Answer::Refuse;
                failed.push(e.path.clone());
            }
        }
    }
}
