import Testing

@testable import SeismoAlert

@Suite("Alert state machine: inactive → pending → firing → resolved, as Prometheus")
struct AlertStateMachineTests {
    let timing = AlertStateMachine.Timing(holdFor: 60_000)

    @Test("a condition that holds goes pending, then fires once it has held for `for`")
    func pendingThenFiring() {
        var machine = AlertStateMachine()
        let r1 = machine.evaluate(holds: true, at: 0, timing: timing)
        #expect(r1 == .pending)
        #expect(machine.phase == .pending)
        let r2 = machine.evaluate(holds: true, at: 30_000, timing: timing)
        #expect(r2 == .none)
        let r3 = machine.evaluate(holds: true, at: 60_000, timing: timing)
        #expect(r3 == .fired)
        #expect(machine.phase == .firing)
        #expect(machine.activeAt == 0)
        #expect(machine.firedAt == 60_000)
    }

    @Test("with `for: 0` the first evaluation that holds fires")
    func zeroForFiresAtOnce() {
        var machine = AlertStateMachine()
        let r4 = machine.evaluate(holds: true, at: 5, timing: .init())
        #expect(r4 == .fired)
        #expect(machine.activeAt == 5)
    }

    @Test("a pending alert whose condition stops is cleared and never fires")
    func pendingCleared() {
        var machine = AlertStateMachine()
        machine.evaluate(holds: true, at: 0, timing: timing)
        let r5 = machine.evaluate(holds: false, at: 30_000, timing: timing)
        #expect(r5 == .cleared)
        #expect(machine.phase == .inactive)
        // Holding again starts a new pending period.
        let r6 = machine.evaluate(holds: true, at: 40_000, timing: timing)
        #expect(r6 == .pending)
        let r7 = machine.evaluate(holds: true, at: 90_000, timing: timing)
        #expect(r7 == .none)
        let r8 = machine.evaluate(holds: true, at: 100_000, timing: timing)
        #expect(r8 == .fired)
    }

    @Test("a firing alert resolves when the condition stops, and a later hold is a new alert")
    func resolveAndRefire() {
        var machine = AlertStateMachine()
        machine.evaluate(holds: true, at: 0, timing: .init())
        let r9 = machine.evaluate(holds: false, at: 10, timing: .init())
        #expect(r9 == .resolved)
        #expect(machine.phase == .resolved)
        #expect(machine.resolvedAt == 10)
        #expect(machine.isReportable)
        let r10 = machine.evaluate(holds: false, at: 20, timing: .init())
        #expect(r10 == .none)
        let r11 = machine.evaluate(holds: true, at: 30, timing: .init())
        #expect(r11 == .fired)
        #expect(machine.activeAt == 30)
        #expect(machine.resolvedAt == nil)
    }

    @Test("keep_firing_for keeps a firing alert firing after the condition stops")
    func keepFiringFor() {
        let timing = AlertStateMachine.Timing(holdFor: 0, keepFiringFor: 120_000)
        var machine = AlertStateMachine()
        machine.evaluate(holds: true, at: 0, timing: timing)
        let r12 = machine.evaluate(holds: false, at: 60_000, timing: timing)
        #expect(r12 == .none)
        #expect(machine.phase == .firing)
        // Holding again resets the keep-firing period.
        machine.evaluate(holds: true, at: 90_000, timing: timing)
        let r13 = machine.evaluate(holds: false, at: 100_000, timing: timing)
        #expect(r13 == .none)
        let r14 = machine.evaluate(holds: false, at: 219_999, timing: timing)
        #expect(r14 == .none)
        let r15 = machine.evaluate(holds: false, at: 220_000, timing: timing)
        #expect(r15 == .resolved)
    }

    @Test("an evaluation earlier than the last one is ignored")
    func outOfOrder() {
        var machine = AlertStateMachine()
        machine.evaluate(holds: true, at: 100, timing: .init())
        let r16 = machine.evaluate(holds: false, at: 50, timing: .init())
        #expect(r16 == .none)
        #expect(machine.phase == .firing)
    }
}
