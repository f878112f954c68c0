// SPDX-License-Identifier: GPL-2.0

//! A small Rust v0 demangler that makes the trace lines' Rust function names legible.
//!
//! `%pS` prints a Rust function's symbol as it is mangled (`_RINvNtCs…`), and every
//! closure scheduled through `include/rasync.rs` is run by one generic trampoline,
//! `call_boxed::<F>` (or `call_dev::<F>`), so every Rust entry looks alike. `trace.c`
//! formats the symbol with `sprint_symbol()`, as `%pS` does, and hands a name that
//! starts with `_R` to [`rasync_demangle`], which rewrites the name part:
//!
//! - paths are printed with `.` between their parts (`crate.module.Type.function`),
//!   crate disambiguators are dropped, closures print as `closure<N>`;
//! - generic arguments are dropped, except for the items of a consumer's `rasync`
//!   module (the included `include/rasync.rs`): an instance of one of them prints as
//!   its first type argument, and a closure defined inside one prints as its parent.
//!   So `call_boxed::<<Domain>::schedule_dev<G>::{closure#0}>` prints as `G`, the
//!   user's own closure or function.
//!
//! The result only has the characters `[A-Za-z0-9_.]` before the `+offset/size`,
//! as `scripts/bootgraph.pl` requires (`calling  ([a-zA-Z0-9\_\.]+)\+`). Anything the
//! demangler does not understand, or a result that does not fit, leaves the symbol as
//! `%pS` prints it. The grammar is that of the Rust v0 symbol-mangling RFC (2603):
//! crate roots `C`, nested paths `N`, inherent and trait impls `M`/`X`/`Y`, generic
//! arguments `I…E`, backreferences `B…_`, and every type and const form, parsed to be
//! skipped.
//!
//! # Examples
//!
//! ```ignore
//! let mut buf = [0u8; 128];
//! let out = demangle(b"_RNvNtCs1234_6sample5probe4init+0x0/0x20 [sample]", &mut buf)?;
//! assert_eq!(out, b"sample.probe.init+0x0/0x20 [sample]");
//! ```
//!
//! C header: [`include/linux/kallsyms.h`](srctree/include/linux/kallsyms.h)

use kernel::{ffi::c_char, prelude::*};

/// The name of the module that `include/rasync.rs` becomes in a consumer crate.
const API_MODULE: &[u8] = b"rasync";

/// Deepest nesting of paths and types followed (the kernel stack is small).
const MAX_DEPTH: u32 = 24;

/// Most parsing steps spent on one symbol (backreferences can repeat work).
const MAX_STEPS: u32 = 4096;

/// The symbol is not one the demangler understands, or its name does not fit.
#[derive(Debug, PartialEq)]
pub(crate) struct Invalid;

type Parsed<T> = core::result::Result<T, Invalid>;

/// A bounded output buffer.
struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Out<'_> {
    fn push(&mut self, bytes: &[u8]) -> Parsed<()> {
        let end = self.len.checked_add(bytes.len()).ok_or(Invalid)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(Invalid)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn push_number(&mut self, mut n: u64) -> Parsed<()> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..])
    }
}

/// Emits `bytes` when printing (`out` is `Some`); a dry run emits nothing.
fn emit(out: &mut Option<&mut Out<'_>>, bytes: &[u8]) -> Parsed<()> {
    match out {
        Some(o) => o.push(bytes),
        None => Ok(()),
    }
}

/// What the caller of [`Parser::path`] needs to know about the path it parsed.
#[derive(Clone, Copy, Default)]
struct PathInfo {
    /// Components from the crate root: 1 for the crate itself.
    depth: u32,
    /// Inside the crate's `rasync` module (a consumer's copy of `include/rasync.rs`).
    api: bool,
    /// An instance of a generic item of that module: prints as its first type argument.
    unwraps: bool,
}

/// A recursive-descent parser over the mangled name after its `_R` prefix.
///
/// # Invariants
///
/// `pos <= sym.len()`; backreferences only jump backwards, so parsing terminates.
struct Parser<'s> {
    sym: &'s [u8],
    pos: usize,
    depth: u32,
    steps: u32,
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<u8> {
        self.sym.get(self.pos).copied()
    }

    fn next(&mut self) -> Parsed<u8> {
        let b = self.peek().ok_or(Invalid)?;
        self.pos += 1;
        Ok(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Counts one step into a nested production; fails when too deep or too long.
    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        self.steps += 1;
        if self.depth > MAX_DEPTH || self.steps > MAX_STEPS {
            return Err(Invalid);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `base-62-number`: `_` is 0, otherwise digits `0-9a-zA-Z` plus one, then `_`.
    fn base62(&mut self) -> Parsed<u64> {
        if self.eat(b'_') {
            return Ok(0);
        }
        let mut n: u64 = 0;
        loop {
            let d = match self.next()? {
                b'_' => break,
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'z' => 10 + c - b'a',
                c @ b'A'..=b'Z' => 36 + c - b'A',
                _ => return Err(Invalid),
            };
            n = n
                .checked_mul(62)
                .and_then(|n| n.checked_add(u64::from(d)))
                .ok_or(Invalid)?;
        }
        n.checked_add(1).ok_or(Invalid)
    }

    /// An optional `tag base-62-number` (disambiguators, binders): 0 when absent.
    fn opt_base62(&mut self, tag: u8) -> Parsed<u64> {
        if !self.eat(tag) {
            return Ok(0);
        }
        self.base62()?.checked_add(1).ok_or(Invalid)
    }

    /// `decimal-number`: `0`, or digits without a leading zero.
    fn decimal(&mut self) -> Parsed<usize> {
        if self.eat(b'0') {
            return Ok(0);
        }
        let mut n: usize = 0;
        let mut any = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.pos += 1;
            any = true;
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(c - b'0')))
                .ok_or(Invalid)?;
        }
        if any {
            Ok(n)
        } else {
            Err(Invalid)
        }
    }

    /// `undisambiguated-identifier`: `[u] decimal [_] bytes`; only `[A-Za-z0-9_]`.
    fn undisambiguated_ident(&mut self) -> Parsed<&'s [u8]> {
        // Punycode identifiers are ASCII too; they print as encoded.
        self.eat(b'u');
        let len = self.decimal()?;
        self.eat(b'_');
        let end = self.pos.checked_add(len).ok_or(Invalid)?;
        let bytes = self.sym.get(self.pos..end).ok_or(Invalid)?;
        if !bytes
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            return Err(Invalid);
        }
        self.pos = end;
        Ok(bytes)
    }

    /// `identifier`: a disambiguator and the identifier proper.
    fn ident(&mut self) -> Parsed<(u64, &'s [u8])> {
        let dis = self.opt_base62(b's')?;
        Ok((dis, self.undisambiguated_ident()?))
    }

    /// Runs `f` at the target of the backreference that starts here (after its `B`),
    /// then continues after the backreference.
    fn backref<T>(&mut self, f: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        let start = self.pos - 1;
        let target = usize::try_from(self.base62()?).map_err(|_| Invalid)?;
        if target >= start {
            return Err(Invalid);
        }
        let resume = self.pos;
        self.pos = target;
        let r = f(self);
        self.pos = resume;
        r
    }

    /// `path`, printed to `out` (or only parsed, when `out` is `None`).
    fn path(&mut self, mut out: Option<&mut Out<'_>>) -> Parsed<PathInfo> {
        self.enter()?;
        let r = self.path_inner(&mut out);
        self.leave();
        r
    }

    fn path_inner(&mut self, out: &mut Option<&mut Out<'_>>) -> Parsed<PathInfo> {
        match self.next()? {
            b'C' => {
                let (_, name) = self.ident()?;
                emit(out, name)?;
                Ok(PathInfo {
                    depth: 1,
                    ..PathInfo::default()
                })
            }
            b'N' => {
                let ns = self.next()?;
                if !ns.is_ascii_alphabetic() {
                    return Err(Invalid);
                }
                let parent_at = self.pos;
                let parent = self.path(None)?;
                let (dis, name) = self.ident()?;
                let end = self.pos;
                // A closure inside an instance of a rasync API item prints as that
                // instance does: as the user's closure it was given.
                let hide = ns == b'C' && parent.unwraps;
                if let Some(o) = out.as_deref_mut() {
                    self.pos = parent_at;
                    self.path(Some(&mut *o))?;
                    self.pos = end;
                    if !hide {
                        o.push(b".")?;
                        match ns {
                            b'C' => o.push(b"closure")?,
                            b'S' => o.push(b"shim")?,
                            b'A'..=b'Z' => return Err(Invalid),
                            _ => o.push(name)?,
                        }
                        if ns.is_ascii_uppercase() {
                            o.push_number(dis)?;
                        }
                    }
                }
                if hide {
                    return Ok(PathInfo {
                        unwraps: false,
                        ..parent
                    });
                }
                Ok(PathInfo {
                    depth: parent.depth + 1,
                    api: parent.api || (parent.depth == 1 && ns == b't' && name == API_MODULE),
                    unwraps: false,
                })
            }
            // `<T>` (inherent impl) and `<T as Trait>` (trait impl): printed as `T`;
            // the impl's own path says which module it is in.
            tag @ (b'M' | b'X') => {
                self.opt_base62(b's')?;
                let module = self.path(None)?;
                self.ty(out.as_deref_mut())?;
                if tag == b'X' {
                    self.path(None)?;
                }
                Ok(PathInfo {
                    unwraps: false,
                    ..module
                })
            }
            // `<T as Trait>` naming a trait's own item: printed as `T`.
            b'Y' => {
                self.ty(out.as_deref_mut())?;
                let tr = self.path(None)?;
                Ok(PathInfo {
                    unwraps: false,
                    ..tr
                })
            }
            b'I' => {
                let base_at = self.pos;
                let base = self.path(None)?;
                let mut shown = false;
                while !self.eat(b'E') {
                    let print = base.api && !shown;
                    let is_type =
                        self.generic_arg(if print { out.as_deref_mut() } else { None })?;
                    shown |= print && is_type;
                }
                if !shown {
                    if let Some(o) = out.as_deref_mut() {
                        let end = self.pos;
                        self.pos = base_at;
                        self.path(Some(o))?;
                        self.pos = end;
                    }
                }
                Ok(PathInfo {
                    unwraps: shown,
                    ..base
                })
            }
            b'B' => self.backref(|p| p.path(out.as_deref_mut())),
            _ => Err(Invalid),
        }
    }

    /// `generic-arg`: a lifetime, a const or a type; returns whether it was a type.
    /// Only a type prints: an argument that is not one must be parsed dry.
    fn generic_arg(&mut self, out: Option<&mut Out<'_>>) -> Parsed<bool> {
        if self.eat(b'L') {
            self.base62()?;
            return Ok(false);
        }
        if self.eat(b'K') {
            self.konst()?;
            return Ok(false);
        }
        self.ty(out)?;
        Ok(true)
    }

    /// `type`: printed when it is a path or a basic type, otherwise as its kind.
    fn ty(&mut self, mut out: Option<&mut Out<'_>>) -> Parsed<()> {
        self.enter()?;
        let r = self.ty_inner(&mut out);
        self.leave();
        r
    }

    fn ty_inner(&mut self, out: &mut Option<&mut Out<'_>>) -> Parsed<()> {
        let tag = self.peek().ok_or(Invalid)?;
        if let Some(name) = basic_type(tag) {
            self.pos += 1;
            return emit(out, name);
        }
        match tag {
            b'C' | b'M' | b'X' | b'Y' | b'N' | b'I' => {
                return self.path(out.as_deref_mut()).map(|_| ())
            }
            _ => self.pos += 1,
        }
        match tag {
            b'A' => {
                self.ty(out.as_deref_mut())?;
                self.konst()
            }
            b'S' | b'P' | b'O' => self.ty(out.as_deref_mut()),
            b'R' | b'Q' => {
                if self.eat(b'L') {
                    self.base62()?;
                }
                self.ty(out.as_deref_mut())
            }
            b'T' => {
                emit(out, b"tuple")?;
                while !self.eat(b'E') {
                    self.ty(None)?;
                }
                Ok(())
            }
            b'F' => {
                emit(out, b"fn")?;
                self.fn_sig()
            }
            b'D' => {
                emit(out, b"dyn")?;
                self.dyn_bounds()?;
                if !self.eat(b'L') {
                    return Err(Invalid);
                }
                self.base62().map(|_| ())
            }
            b'B' => self.backref(|p| p.ty(out.as_deref_mut())),
            _ => Err(Invalid),
        }
    }

    /// `fn-sig`: `[binder] [U] [K abi] {type} E type`, parsed dry.
    fn fn_sig(&mut self) -> Parsed<()> {
        self.opt_base62(b'G')?;
        self.eat(b'U');
        if self.eat(b'K') && !self.eat(b'C') {
            self.undisambiguated_ident()?;
        }
        while !self.eat(b'E') {
            self.ty(None)?;
        }
        self.ty(None)
    }

    /// `dyn-bounds`: `[binder] {path {p ident type}} E`, parsed dry.
    fn dyn_bounds(&mut self) -> Parsed<()> {
        self.opt_base62(b'G')?;
        while !self.eat(b'E') {
            self.path(None)?;
            while self.eat(b'p') {
                self.undisambiguated_ident()?;
                self.ty(None)?;
            }
        }
        Ok(())
    }

    /// `const`: a basic type and its value in hex, a placeholder, or a backreference.
    fn konst(&mut self) -> Parsed<()> {
        self.enter()?;
        let r = self.konst_inner();
        self.leave();
        r
    }

    fn konst_inner(&mut self) -> Parsed<()> {
        match self.next()? {
            b'p' => Ok(()),
            b'B' => self.backref(|p| p.konst()),
            t if basic_type(t).is_some() => {
                self.eat(b'n');
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    self.pos += 1;
                }
                if self.eat(b'_') {
                    Ok(())
                } else {
                    Err(Invalid)
                }
            }
            _ => Err(Invalid),
        }
    }
}

/// The name of a `basic-type` letter.
fn basic_type(tag: u8) -> Option<&'static [u8]> {
    Some(match tag {
        b'a' => b"i8",
        b'b' => b"bool",
        b'c' => b"char",
        b'd' => b"f64",
        b'e' => b"str",
        b'f' => b"f32",
        b'h' => b"u8",
        b'i' => b"isize",
        b'j' => b"usize",
        b'l' => b"i32",
        b'm' => b"u32",
        b'n' => b"i128",
        b'o' => b"u128",
        b's' => b"i16",
        b't' => b"u16",
        b'u' => b"unit",
        b'v' => b"varargs",
        b'x' => b"i64",
        b'y' => b"u64",
        b'z' => b"never",
        b'p' => b"_",
        _ => return None,
    })
}

/// Demangles the name part of `sym` (`name+0x0/0x32 [module]`, as `sprint_symbol()`
/// prints it) into `buf`, followed by the rest of `sym` unchanged; returns the result.
pub(crate) fn demangle<'b>(sym: &[u8], buf: &'b mut [u8]) -> Parsed<&'b [u8]> {
    let name_len = sym.iter().position(|&c| c == b'+').unwrap_or(sym.len());
    let (name, rest) = sym.split_at(name_len);
    let mangled = name.strip_prefix(b"_R").ok_or(Invalid)?;
    let mut parser = Parser {
        sym: mangled,
        pos: 0,
        depth: 0,
        steps: 0,
    };
    // An encoding version, if any, comes first; paths start with a capital letter.
    if parser.peek().is_some_and(|c| c.is_ascii_digit()) {
        parser.decimal()?;
    }
    let mut out = Out { buf, len: 0 };
    parser.path(Some(&mut out))?;
    // What follows the path (the instantiating crate, a `.llvm.` suffix) is not shown.
    out.push(rest)?;
    let Out { buf, len } = out;
    let buf: &'b [u8] = buf;
    buf.get(..len).ok_or(Invalid)
}

/// Rewrites the NUL-terminated symbol `sym` (from `sprint_symbol()`) into `buf` of
/// `size` bytes, NUL-terminated, with its Rust v0 name demangled. Returns `false`, with
/// `buf` untouched or partly written, when `sym` is not a v0 name the demangler
/// understands or the result does not fit.
///
/// # Safety
///
/// `sym` must be a valid NUL-terminated string and `buf` valid for writes of `size`
/// bytes; the two must not overlap.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_demangle(
    sym: *const c_char,
    buf: *mut c_char,
    size: usize,
) -> bool {
    if sym.is_null() || buf.is_null() || size == 0 {
        return false;
    }
    // SAFETY: the caller passes a valid NUL-terminated string.
    let sym = unsafe { CStr::from_char_ptr(sym) }.to_bytes();
    // SAFETY: the caller passes `size` writable bytes that do not overlap `sym`.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), size) };
    // Keep the last byte for the NUL.
    let Some((_, room)) = buf.split_last_mut() else {
        return false;
    };
    let len = match demangle(sym, room) {
        Ok(name) => name.len(),
        Err(Invalid) => return false,
    };
    match buf.get_mut(len) {
        Some(nul) => {
            *nul = 0;
            true
        }
        None => false,
    }
}

#[kunit_tests(rasync_demangle)]
mod tests {
    use super::*;

    /// Demangles `sym` into a buffer of `size` bytes and compares with `want`.
    fn check(sym: &[u8], want: &[u8]) -> Result {
        let mut buf = [0u8; 256];
        let got = demangle(sym, &mut buf).map_err(|_| EINVAL)?;
        assert_eq!(core::str::from_utf8(got), core::str::from_utf8(want));
        Ok(())
    }

    fn rejects(sym: &[u8]) -> bool {
        let mut buf = [0u8; 256];
        demangle(sym, &mut buf).is_err()
    }

    #[test]
    fn sample_probe_closure_shows_through_the_trampolines() -> Result {
        // rasync_sample_main::rasync::call_boxed::<<rasync_sample_main::rasync::Domain>
        //     ::schedule_dev<<rasync_sample_main::probe::Probes>::probe::{closure#0}>
        //     ::{closure#0}>
        check(
            b"_RINvNtCs3EcHScbbHRf_18rasync_sample_main6rasync10call_boxedNCINvMs0_B2_NtB2_6\
              Domain12schedule_devNCNvMNtB4_5probeNtB1C_6Probes5probe0E0EB4_+0x27/0x40 \
              [rasync_sample]",
            b"rasync_sample_main.probe.Probes.probe.closure0+0x27/0x40 [rasync_sample]",
        )
    }

    #[test]
    fn free_schedule_dev_and_call_dev_show_the_user_closure() -> Result {
        // call_boxed::<rasync::schedule_dev<tests::device_variants_pass_the_device::
        //     {closure#0}>::{closure#0}>
        check(
            b"_RINvNtCsjaR3JVToWZD_16rasync_rust_test6rasync10call_boxedNCINvB2_12schedule_\
              devNCNvNtNtB4_9api_tests5tests31device_variants_pass_the_device0E0EB4_+0x0/0x1",
            b"rasync_rust_test.api_tests.tests.device_variants_pass_the_device.closure0\
              +0x0/0x1",
        )?;
        // call_dev::<tests::device_variants_pass_the_device::{closure#3}>
        check(
            b"_RINvNtCsjaR3JVToWZD_16rasync_rust_test6rasync8call_devNCNvNtNtB4_9api_tests\
              5tests31device_variants_pass_the_devices1_0EB4_",
            b"rasync_rust_test.api_tests.tests.device_variants_pass_the_device.closure3",
        )
    }

    #[test]
    fn trait_impl_closure_prints_its_type() -> Result {
        // call_boxed::<<rasync_lc_rust::LcRust as kernel::module::Module>::init::
        //     {closure#0}>
        check(
            b"_RINvNtCs6m1FBla7X5E_14rasync_lc_rust6rasync10call_boxedNCNvXB4_NtB4_6LcRust\
              NtNtCs1EKtwoKEMO2_6kernel6module6Module4init0EB4_+0x0/0x60 [rasync_lc_rust]",
            b"rasync_lc_rust.LcRust.init.closure0+0x0/0x60 [rasync_lc_rust]",
        )
    }

    #[test]
    fn generic_arguments_of_other_items_are_dropped() -> Result {
        // <kernel::workqueue::Queue>::enqueue::<Pin<Box<ClosureWork<…>, Kmalloc>>, 0>
        check(
            b"_RINvMs0_NtCs1EKtwoKEMO2_6kernel9workqueueNtB6_5Queue7enqueueINtNtCs1peUGmbr\
              gHn_4core3pin3PinINtNtNtB8_5alloc4kbox3BoxINtB6_11ClosureWorkNCINvNtCsjaR3JV\
              ToWZD_16rasync_rust_test9api_tests7boundedNCNvNtB2f_5tests23closures_own_the\
              ir_datas_0E0ENtNtB1x_9allocator7KmallocEEKy0_EB2h_",
            b"kernel.workqueue.Queue.enqueue",
        )?;
        // A function item as a type argument, closure disambiguators counted from 0.
        check(
            b"_RNCINvNtCsjaR3JVToWZD_16rasync_rust_test9api_tests7boundedNvNtB6_6rasync16s\
              ynchronize_fullE0B6_",
            b"rasync_rust_test.api_tests.bounded.closure0",
        )?;
        check(b"_RNCNvCs1_1a1bs0_0", b"a.b.closure2")
    }

    #[test]
    fn types_and_consts_are_skipped() -> Result {
        // a::f::<&[u8; 4], (i32, bool), fn(u8) -> u8, dyn Tr + 'static, 'a, 7>
        check(b"_RINvCs_1a1fRAhj4_TlbEFhEhDNvB2_2TrEL_L0_Kj7_E", b"a.f")?;
        // An instance of a rasync API item shows the type argument, here a basic type.
        check(b"_RINvNtC1a6rasync10call_boxedmE", b"u32")
    }

    #[test]
    fn c_and_malformed_symbols_are_rejected() -> Result {
        assert!(rejects(b"lc_trace_entry+0x0/0x60 [rasync_lc_b]"));
        assert!(rejects(b"_R"));
        assert!(rejects(b"_RNvC1a"));
        // A backreference must point before itself.
        assert!(rejects(b"_RB_"));
        assert!(rejects(b"_RNvB2_1a"));
        // Characters bootgraph.pl cannot take, in an identifier.
        assert!(rejects(b"_RNvC1a2b-"));
        // Too deep: every level nests another path.
        let mut deep = KVec::new();
        deep.extend_from_slice(b"_R", GFP_KERNEL)?;
        for _ in 0..40 {
            deep.extend_from_slice(b"Nv", GFP_KERNEL)?;
        }
        deep.extend_from_slice(b"C1a", GFP_KERNEL)?;
        for _ in 0..40 {
            deep.extend_from_slice(b"1b", GFP_KERNEL)?;
        }
        assert!(rejects(&deep));
        Ok(())
    }

    #[test]
    fn result_must_fit() -> Result {
        let sym = b"_RNvNtCs1234_6sample5probe4init+0x0/0x20 [sample]";
        let want: &[u8] = b"sample.probe.init+0x0/0x20 [sample]";
        let mut exact = [0u8; 35];
        assert_eq!(demangle(sym, &mut exact), Ok(want));
        let mut short = [0u8; 34];
        assert!(demangle(sym, &mut short).is_err());
        // The C entry point keeps a byte for the NUL.
        let mut buf = [0xffu8; 36];
        let csym = b"_RNvNtCs1234_6sample5probe4init+0x0/0x20 [sample]\0";
        // SAFETY: `csym` is NUL-terminated, `buf` is writable for its length.
        let ok = unsafe { rasync_demangle(csym.as_ptr().cast(), buf.as_mut_ptr().cast(), 36) };
        assert!(ok);
        assert_eq!(&buf[..35], want);
        assert_eq!(buf[35], 0);
        // SAFETY: as above, with a size one byte short of the result and its NUL.
        let ok = unsafe { rasync_demangle(csym.as_ptr().cast(), buf.as_mut_ptr().cast(), 35) };
        assert!(!ok);
        Ok(())
    }
}
