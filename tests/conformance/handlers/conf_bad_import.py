import not_installed_dependency_xyz


def handler(event, context):
    return "unreachable"
