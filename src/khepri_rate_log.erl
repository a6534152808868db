%% @doc Warnings that could repeat for every write (a projection fun that
%% crashes on some records, a trigger whose sproc is missing) are logged at
%% most once per second per key, with the number left out since the last
%% one. State lives in the calling process's dictionary: each store process
%% and trigger runner limits its own warnings.
-module(khepri_rate_log).

-include_lib("kernel/include/logger.hrl").

-export([warning/3]).

-define(INTERVAL_MS, 1000).

%% @doc Logs `Format'/`Args' as a warning unless one with the same `Key'
%% was logged less than a second ago.
-spec warning(term(), io:format(), [term()]) -> ok.
warning(Key, Format, Args) ->
    Now = erlang:monotonic_time(millisecond),
    DictKey = {?MODULE, Key},
    case get(DictKey) of
        {Last, Skipped} when Now - Last < ?INTERVAL_MS ->
            put(DictKey, {Last, Skipped + 1}),
            ok;
        Previous ->
            Skipped = case Previous of
                          {_, N} -> N;
                          undefined -> 0
                      end,
            put(DictKey, {Now, 0}),
            Suffix = case Skipped of
                         0 -> "";
                         _ -> lists:flatten(io_lib:format(
                                " (~b similar warnings left out)", [Skipped]))
                     end,
            ?LOG_WARNING(Format ++ "~s", Args ++ [Suffix])
    end.
