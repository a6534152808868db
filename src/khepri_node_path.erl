%% @doc Turns the path argument of a single-node call into the native path the
%% engine takes, raising the documented exceptions on bad input.
%%
%% The common case, a list of atoms and binaries, is checked in one pass and
%% passed through untouched: it is on the hot path of every get and put.
-module(khepri_node_path).

-include("khepri.hrl").

-export([single/1]).

%% @doc The native path targeted by `PathOrPattern' (a native path, a string
%% or a binary). Raises `invalid_path', `possibly_matching_many_nodes_denied'
%% or `condition_targets_parent_node'.
-spec single(term()) -> khepri_path:native_path().
single(Path) when is_list(Path) ->
    case is_plain(Path) of
        true -> Path;
        false -> parse(Path)
    end;
single(Path) ->
    parse(Path).

is_plain([C | Rest]) when is_atom(C); is_binary(C) -> is_plain(Rest);
is_plain([]) -> true;
is_plain(_) -> false.

parse(Path) ->
    Pattern0 = khepri_path:from_string(Path),
    ok = khepri_path:ensure_is_valid(Pattern0),
    Pattern = khepri_path:realpath(Pattern0),
    case khepri_path:targets_specific_node(Pattern) of
        {true, NodePath} when NodePath =:= Pattern ->
            NodePath;
        {true, _NodePath} ->
            %% Conditions in single-node paths come with the condition
            %% engine (issue 3); refuse them rather than ignore them.
            [C | _] = [C || C <- Pattern, not is_atom(C), not is_binary(C)],
            erlang:error(?khepri_exception(unsupported_condition,
                                           #{condition => C,
                                             reason => not_yet_supported}));
        false ->
            erlang:error(?khepri_exception(possibly_matching_many_nodes_denied,
                                           #{path => Pattern0}))
    end.
