//! Host operations and calls: operands through the scratch slot to the
//! callbacks, calls to compiled functions, the legalizer's helpers in place
//! or in Rust.

use super::{Callee, Error, Lower, RES, SCRATCH, ty};
use crate::vm::{self, encode_pos};
use chainlift_ir::entities::{FuncId as IrFunc, Value as IrValue};
use chainlift_ir::function::Inst;
use chainlift_ir::inst::HostOp;
use chainlift_ir::types::Type;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, Value};

impl Lower<'_, '_, '_> {
    /// Stores `vs` (i64 limbs) into the scratch slot from byte `at`.
    pub(super) fn spill(&mut self, vs: &[IrValue], at: i32) -> Result<(), Error> {
        for (i, v) in vs.iter().enumerate() {
            let x = self.val(*v)?;
            let x = self.widen(x);
            self.b
                .ins()
                .stack_store(I64, x, self.scratch, at + 8 * i as i32);
        }
        Ok(())
    }

    /// `v` zero-extended to `i64`.
    pub(super) fn widen(&mut self, v: Value) -> Value {
        match self.b.func.dfg.value_type(v) {
            I64 => v,
            _ => self.b.ins().uextend(I64, v),
        }
    }

    /// Results `rs` from the scratch slot from byte `at`.
    pub(super) fn unspill(&mut self, rs: &[IrValue], at: i32) -> Result<(), Error> {
        for (i, r) in rs.iter().enumerate() {
            let t = ty(self.f.ty(*r), &self.f.name)?;
            let x = self
                .b
                .ins()
                .stack_load(I64, I64, self.scratch, at + 8 * i as i32);
            let x = match t {
                I64 => x,
                _ => self.b.ins().ireduce(t, x),
            };
            self.vals[r.index()] = Some(x);
        }
        Ok(())
    }

    pub(super) fn host(&mut self, op: HostOp, inst: &Inst) -> Result<(), Error> {
        let (n, r) = op.arity();
        let Some(code) = HostOp::ALL.iter().position(|h| *h == op) else {
            return Err(Error::Unsupported {
                what: format!("host.{}", op.name()),
                pos: inst.pos,
            });
        };
        if 32 * n > RES as usize || 32 * r > (SCRATCH as usize - RES as usize) {
            return Err(Error::Internal {
                func: self.f.name.clone(),
                what: format!("host.{} has more operands than the scratch slot", op.name()),
            });
        }
        let limbs = inst
            .args
            .first()
            .or(inst.results.first())
            .is_none_or(|v| self.f.ty(*v) == Type::I64);
        if !limbs || inst.args.len() != 4 * n || inst.results.len() != 4 * r {
            return Err(Error::NotLegalized {
                func: self.f.name.clone(),
            });
        }
        self.spill(&inst.args, 0)?;
        self.save_fuel();
        let code = self.iconst(I32, code as i64);
        let args = self.b.ins().stack_addr(I64, self.scratch, 0);
        let res = self.b.ins().stack_addr(I64, self.scratch, RES);
        let pos = self.iconst(I64, encode_pos(inst.pos));
        let sig = self.sigs.host;
        let status = self.callback(
            sig,
            vm::host_op as *const () as usize,
            &[self.vm, code, args, res, pos],
        );
        self.load_fuel();
        if let Some(s) = status {
            self.stop_if(s);
        }
        self.unspill(&inst.results, RES)
    }

    pub(super) fn call(&mut self, callee: IrFunc, inst: &Inst) -> Result<(), Error> {
        let how = self.cx.callees.get(callee.index()).copied();
        let args: Vec<Value> = inst
            .args
            .iter()
            .map(|v| self.val(*v))
            .collect::<Result<_, _>>()?;
        match how {
            Some(Callee::MulWide) if args.len() == 2 && inst.results.len() == 2 => {
                let lo = self.b.ins().imul(args[0], args[1]);
                let hi = self.b.ins().umulhi(args[0], args[1]);
                self.vals[inst.results[0].index()] = Some(lo);
                self.vals[inst.results[1].index()] = Some(hi);
            }
            Some(Callee::Math(m)) => {
                let (n, r) = m.arity();
                if args.len() != 4 * n || inst.results.len() != 4 * r {
                    return Err(Error::NotLegalized {
                        func: self.f.name.clone(),
                    });
                }
                self.spill(&inst.args, 0)?;
                let code = self.iconst(I32, m as i64);
                let a = self.b.ins().stack_addr(I64, self.scratch, 0);
                let res = self.b.ins().stack_addr(I64, self.scratch, RES);
                let sig = self.sigs.math;
                self.callback(sig, vm::math as *const () as usize, &[code, a, res]);
                // About what the limb code costs per word.
                self.charge(64);
                self.unspill(&inst.results, RES)?;
            }
            Some(Callee::Compiled(_)) => {
                let Some(fref) = self.cx.refs.get(callee.index()).copied().flatten() else {
                    return Err(Error::Internal {
                        func: self.f.name.clone(),
                        what: format!("no reference to fn{}", callee.index()),
                    });
                };
                self.save_fuel();
                let depth = self.b.ins().iadd_imm_s(self.depth, 1);
                let mut all = vec![self.vm, depth];
                all.extend(args);
                let call = self.b.ins().call(fref, &all);
                let results = self.b.inst_results(call).to_vec();
                self.load_fuel();
                self.stop_if(results[0]);
                for (r, v) in inst.results.iter().zip(&results[1..]) {
                    self.vals[r.index()] = Some(*v);
                }
            }
            _ => {
                return Err(Error::Unsupported {
                    what: format!("a call to fn{} with the wrong arity", callee.index()),
                    pos: inst.pos,
                });
            }
        }
        Ok(())
    }
}
