"""Interrupts (Ctrl-C) delivered at every point of a function, for the tests of what state
an interrupt leaves behind."""
import dis
import itertools
import sys


def interrupted_after_each_call(code, block):
    """Run ``block()`` once per call that ``code`` makes, and per time it makes it (a call
    in a loop, or in a second run of ``code``), with one KeyboardInterrupt raised in ``code``
    as that call returns, where Python delivers a Ctrl-C. (Not at the entry of ``code``: an
    interrupt there, before any of it runs, no Python code can handle.)"""
    instructions = list(dis.get_instructions(code))
    after_calls = [following.offset for ins, following in zip(instructions, instructions[1:])
                   if ins.opname.startswith("CALL")]
    assert after_calls or code.co_name == "__exit__"
    for offset in after_calls:
        for nth in itertools.count(1):
            reached = [0]

            def trace_opcodes(frame, event, arg, at=offset, nth=nth, reached=reached):
                if event == "opcode" and frame.f_lasti == at:
                    reached[0] += 1
                    if reached[0] == nth:
                        raise KeyboardInterrupt
                return trace_opcodes

            def trace_calls(frame, event, arg):
                if frame.f_code is code:
                    frame.f_trace_opcodes = True
                    return trace_opcodes
                return None

            tracing = sys.gettrace()  # a coverage tool's, say
            sys.settrace(trace_calls)
            try:
                block()
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(tracing)
            if reached[0] < nth:  # this run got there fewer times: nothing was interrupted
                break
            yield offset, nth
