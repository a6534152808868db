%% @doc Turns the path or pattern argument of an API call into the native
%% pattern the engine takes, raising the documented exceptions on bad input:
%% `invalid_path', `possibly_matching_many_nodes_denied',
%% `condition_targets_parent_node', `unsupported_condition'. Nothing that
%% fails here reaches the log.
%%
%% The common case, a list of atoms and binaries, is checked in one pass and
%% passed through untouched: it is on the hot path of every get and put.
-module(khepri_pattern).

-include("khepri.hrl").

-export([single/1, many/1, keep_while/2, node_path/1, is_plain/1]).

%% @doc The pattern of a single-node call: every component must target one
%% node (a name, or a condition bound to one name).
-spec single(term()) -> khepri_path:native_pattern().
single(Path) when is_list(Path) ->
    case is_plain(Path) of
        true -> Path;
        false -> prepare(Path, true)
    end;
single(Path) ->
    prepare(Path, true).

%% @doc The pattern of a many-node call (get_many, put_many, delete_many...).
-spec many(term()) -> khepri_path:native_pattern().
many(Path) when is_list(Path) ->
    case is_plain(Path) of
        true -> Path;
        false -> prepare(Path, false)
    end;
many(Path) ->
    prepare(Path, false).

%% Deepest path accepted. The engine's bookkeeping of auto-created ancestors
%% is quadratic in depth; a metadata tree is a few levels deep, and an
%% absurd path must not be able to exhaust memory.
-define(MAX_DEPTH, 1024).

%% @doc True for a list of atoms and binaries (a native path without special
%% components or conditions) of at most `?MAX_DEPTH' components.
is_plain(Path) -> is_plain(Path, 0).

is_plain([C | Rest], N) when (is_atom(C) orelse is_binary(C)) andalso N < ?MAX_DEPTH ->
    is_plain(Rest, N + 1);
is_plain([], _) -> true;
is_plain(_, _) -> false.

%% @doc The node path a single-node pattern targets (conditions stripped).
node_path(Pattern) ->
    case khepri_path:targets_specific_node(Pattern) of
        {true, Path} -> Path;
        false -> Pattern
    end.

prepare(Path, Single) ->
    Pattern0 = khepri_path:from_string(Path),
    ok = khepri_path:ensure_is_valid(Pattern0),
    Pattern = khepri_path:realpath(Pattern0),
    length(Pattern) =< ?MAX_DEPTH orelse
        erlang:error(?khepri_exception(invalid_path,
                                       #{path => Path,
                                         component => lists:nth(?MAX_DEPTH + 1, Pattern)})),
    ok = check_conditions(Pattern0, Pattern),
    case Single andalso khepri_path:targets_specific_node(Pattern) =:= false of
        true ->
            erlang:error(?khepri_exception(possibly_matching_many_nodes_denied,
                                           #{path => Pattern0}));
        false ->
            Pattern
    end.

check_conditions(Path, Pattern) ->
    lists:foreach(
      fun(C) when is_atom(C); is_binary(C) -> ok;
         (C) -> check_condition(Path, C, C)
      end, Pattern).

check_condition(Path, Top, ?PARENT_KHEPRI_NODE) ->
    erlang:error(?khepri_exception(condition_targets_parent_node,
                                   #{path => Path, condition => Top}));
check_condition(Path, Top, #if_not{condition = C}) ->
    check_condition(Path, Top, C);
check_condition(Path, Top, #if_all{conditions = Cs}) ->
    [check_condition(Path, Top, C) || C <- Cs],
    ok;
check_condition(Path, Top, #if_any{conditions = Cs}) ->
    [check_condition(Path, Top, C) || C <- Cs],
    ok;
check_condition(_Path, _Top, #if_data_matches{} = C) ->
    khepri_condition:validate_data_matches(C);
check_condition(_Path, _Top, _) ->
    ok.

%% @doc The `keep_while' option of a put on `NodePath', as the engine takes
%% it: `[{AbsolutePattern, Condition}]'. Keys are made absolute relative to
%% the node being written (SPEC 4.3); two keys resolving to the same pattern
%% (say `"x"' and `[?THIS_KHEPRI_NODE, x]') are combined with `#if_all{}'.
-spec keep_while(map(), khepri_path:native_pattern()) -> [{list(), term()}].
keep_while(KeepWhile, NodePath) ->
    Native = khepri_condition:ensure_native_keep_while(KeepWhile),
    Absolute = maps:fold(
                 fun(Key, Cond, Acc) ->
                         Abs = khepri_path:realpath(khepri_path:abspath(Key, NodePath)),
                         ok = khepri_path:ensure_is_valid(Abs),
                         ok = check_conditions(Key, Abs),
                         ok = check_condition(Key, Cond, Cond),
                         maps:update_with(Abs, fun(Prev) -> [Cond | Prev] end, [Cond], Acc)
                 end, #{}, Native),
    [{Abs, combine(Conds)} || {Abs, Conds} <- lists:sort(maps:to_list(Absolute))].

combine([Cond]) -> Cond;
combine(Conds) -> #if_all{conditions = lists:sort(Conds)}.
