%% @doc Registering projections and triggers (SPEC 2.4, 4.6, 4.7): the
%% arguments are checked here, then one replicated command carries the
%% registration, so every member knows it and it survives restarts and
%% snapshots. Nothing invalid reaches the log.
-module(khepri_registration).

-include("khepri.hrl").
-include("khepri_evf.hrl").
-include("khepri_projection.hrl").

-export([register_projection/4, unregister_projections/3, adv_unregister_projections/3,
         has_projection/3,
         register_trigger/5]).

%% @doc `ok', or `{error, ?khepri_error(projection_already_exists, #{name =>
%% Name})}' when a projection of that name is registered; `{error, timeout |
%% noproc}'. Raises `?khepri_exception(invalid_projection, _)' for anything
%% but a `khepri_projection:new/2,3' result, `invalid_path' for a bad
%% pattern.
-spec register_projection(atom(), term(), term(), map()) -> ok | {error, term()}.
register_projection(StoreId, PathPattern,
                    #khepri_projection{name = Name, projection_fun = Fun} = Projection,
                    Options) when is_atom(Name) ->
    ok = khepri_options:validate(Options),
    Pattern = khepri_pattern:many(PathPattern),
    Kind = case Fun of
               copy -> copy;
               _ when is_function(Fun, 2) -> simple;
               _ when is_function(Fun, 4) -> extended;
               _ -> invalid(invalid_projection, #{projection => Projection})
           end,
    Command = {register_projection, Name, Pattern, Kind,
               term_to_binary(Projection)},
    done(khepri_command:run(StoreId, Command, Options));
register_projection(_StoreId, _PathPattern, Projection, _Options) ->
    invalid(invalid_projection, #{projection => Projection}).

%% @doc Drops the named projections (`all': every one) on every member;
%% unknown names are ignored.
-spec unregister_projections(atom(), all | [atom()], map()) -> ok | {error, term()}.
unregister_projections(StoreId, Names, Options)
  when Names =:= all orelse is_list(Names) ->
    ok = khepri_options:validate(Options),
    lists:all(fun is_atom/1, case Names of all -> []; _ -> Names end)
        orelse invalid(invalid_projection_names, #{names => Names}),
    done(khepri_command:run(StoreId, {unregister_projections, Names}, Options));
unregister_projections(_StoreId, Names, _Options) ->
    invalid(invalid_projection_names, #{names => Names}).

%% @doc Like `unregister_projections/3', returning `{ok, #{Name =>
%% PathPattern}}' for the projections removed (`khepri_adv', SPEC 2.6). They
%% are read from the local member just before the command: a projection
%% registered concurrently on another node may be removed unlisted.
-spec adv_unregister_projections(atom(), all | [atom()], map()) ->
    {ok, #{atom() => list()}} | {error, term()}.
adv_unregister_projections(StoreId, Names, Options) ->
    Before = case khepri_store:engine(StoreId) of
                 {ok, Engine} -> khepri_nif:projections(Engine);
                 error -> #{}
             end,
    case unregister_projections(StoreId, Names, Options) of
        ok when Names =:= all -> {ok, Before};
        ok -> {ok, maps:with(Names, Before)};
        {error, _} = Error -> Error
    end.

%% @doc Whether a projection named `Name' is registered, as the local
%% member knows (after a fence with `favor => consistency').
-spec has_projection(atom(), atom(), map()) -> boolean() | {error, term()}.
has_projection(StoreId, Name, Options) when is_atom(Name) ->
    ok = khepri_options:validate(Options),
    khepri_ops:with_engine(StoreId, Options, fun(Engine) ->
        maps:is_key(Name, khepri_nif:projections(Engine))
    end);
has_projection(_StoreId, Name, _Options) ->
    invalid(invalid_projection_names, #{names => [Name]}).

%% @doc Registers (or replaces) trigger `TriggerId': when a node matching
%% the event filter changes, the stored procedure at `SprocPath' runs on the
%% leader's node (SPEC 4.6). Neither needs to exist yet.
-spec register_trigger(atom(), atom(), term(), term(), map()) -> ok | {error, term()}.
register_trigger(StoreId, TriggerId, EventFilter, SprocPath, Options)
  when is_atom(TriggerId) ->
    ok = khepri_options:validate(Options),
    #evf_tree{path = PathPattern, props = Props} = khepri_evf:wrap(EventFilter),
    Pattern = khepri_pattern:many(PathPattern),
    OnActions = maps:get(on_actions, Props, []),
    (is_list(OnActions) andalso
     lists:all(fun(A) -> lists:member(A, [create, update, delete]) end, OnActions))
        orelse invalid(invalid_event_filter, #{event_filter => EventFilter}),
    Priority = maps:get(priority, Props, 0),
    is_integer(Priority)
        orelse invalid(invalid_event_filter, #{event_filter => EventFilter}),
    Path = sproc_path(SprocPath),
    Command = {register_trigger, TriggerId, Pattern, OnActions, Priority, Path},
    done(khepri_command:run(StoreId, Command, Options));
register_trigger(_StoreId, TriggerId, _EventFilter, _SprocPath, _Options) ->
    invalid(invalid_trigger_id, #{trigger_id => TriggerId}).

%% The stored procedure's path: one node, no conditions.
sproc_path(SprocPath) ->
    Path = khepri_pattern:single(SprocPath),
    khepri_pattern:is_plain(Path)
        orelse erlang:error(?khepri_exception(invalid_path, #{path => SprocPath})),
    Path.

done({ok, _}) -> ok;
done(ok) -> ok;
done({error, _} = Error) -> Error.

invalid(Name, Props) ->
    erlang:error(?khepri_exception(Name, Props)).
