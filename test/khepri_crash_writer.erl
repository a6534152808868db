%% @doc A writer of the crash harness: runs on a member's node and puts
%% distinct keys one after the other until told to stop, reporting every
%% outcome to the recorder on the harness node. Each value is a function of
%% its key, so any key found in a tree can be checked on its own.
-module(khepri_crash_writer).

-export([run/1, key/2, value/1, is_harness_key/1]).

%% Every key of the harness lives under this root.
-define(ROOT, crash).

%% @doc Runs on a member's node: puts `key(Tag, 1)', `key(Tag, 2)'... with
%% a `Timeout' per put, sending `{write, self(), Key, InvokeNs, Outcome}' to
%% `Recorder' after each; `Outcome' is `ok', `timeout', `noproc' or
%% `{error, Term}'.
%% Stops, between two puts, on a `stop' message.
run(#{store := Store, recorder := Recorder, tag := Tag, timeout := Timeout}) ->
    loop(Store, Recorder, Tag, Timeout, 1).

loop(Store, Recorder, Tag, Timeout, Seq) ->
    receive
        stop -> ok
    after 0 ->
        Key = key(Tag, Seq),
        %% the OS clock: the harness runs on this host and compares it with
        %% the moment it saw a member go down
        Invoke = os:system_time(nanosecond),
        Outcome = outcome(khepri:put(Store, Key, value(Key), #{timeout => Timeout})),
        Recorder ! {write, self(), Key, Invoke, Outcome},
        loop(Store, Recorder, Tag, Timeout, Seq + 1)
    end.

%% Only `ok' acknowledges a write. A timeout leaves its fate unknown; the
%% store not running here (`noproc') means it was not sent; anything else is
%% unexpected.
outcome(ok) -> ok;
outcome({error, timeout}) -> timeout;
outcome({error, noproc}) -> noproc;
outcome(Other) -> {error, Other}.

%% @doc The `Seq'th key of writer `Tag' (a binary unique in the run).
key(Tag, Seq) ->
    [?ROOT, Tag, integer_to_binary(Seq)].

%% @doc The value written at `Key': its sequence number, and a filler
%% of 0 to 63 bytes so that log records are not all the same size.
value([?ROOT, Tag, SeqBin]) ->
    Seq = binary_to_integer(SeqBin),
    {Tag, Seq, binary:copy(<<"v">>, Seq rem 64)}.

%% @doc Whether `Path' is a key written by a writer (not one of the
%% intermediate nodes above the keys).
is_harness_key([?ROOT, Tag, SeqBin]) when is_binary(Tag), is_binary(SeqBin) -> true;
is_harness_key(_) -> false.
